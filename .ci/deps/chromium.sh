#!/usr/bin/env bash
# Installs Debian's chromium for test/report (headless rendering of polca's HTML report).
# Idempotent: does nothing when /usr/bin/chromium is already there. The package lists
# are refreshed only if the install fails without them (a fresh machine may have none).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Fonts are listed so that chart text renders as glyphs rather than empty boxes.
pkgs=(chromium fonts-dejavu-core)
if ! $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
if [ ! -x /usr/bin/chromium ]; then
  echo ".ci/deps/chromium.sh: apt-get finished but /usr/bin/chromium is missing" >&2
  exit 1
fi
