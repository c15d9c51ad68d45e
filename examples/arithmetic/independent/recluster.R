# An independent re-clustering of a demo run (METHOD.md §3, §5) with R's dbscan, from the CSV files
# export.mjs writes: carry labels recomputed from the probe text, projected loss summed from the
# `firstOrder` and `value` columns, the paper's filters, HDBSCAN, eligibility and carry homogeneity.
#
#   Rscript recluster.R <csv-dir> <delta> <tau> [min_cluster_size min_samples] [sklearn|hdbscanlib] [place]
#
# With a place (the power of ten: 1 for the 10s, 2 for the 100s), only that place's tokens are clustered,
# so that place cannot be what sets a cluster apart; polca's memberships are then not compared.
#
# Needs dbscan >= 1.2.1 (older versions build a wrong minimum spanning tree); Debian's r-cran-dbscan is
# older, so install it from source (README of this folder) and point R_LIBS at it.
suppressMessages(library(dbscan))
if (packageVersion("dbscan") < "1.2.1") stop("dbscan ", packageVersion("dbscan"), " is older than 1.2.1: build it from source")
cat("dbscan version:", as.character(packageVersion("dbscan")), "\n")
args <- commandArgs(TRUE)
if (length(args) < 3) stop("usage: Rscript recluster.R <csv-dir> <delta> <tau> [min_cluster_size min_samples] [sklearn|hdbscanlib] [place]")
setwd(args[1])
DELTA <- as.numeric(args[2]); TAU <- as.numeric(args[3])
MCS <- if (length(args) >= 5) as.integer(args[4]) else 40L
MS <- if (length(args) >= 5) as.integer(args[5]) else 10L
conv <- if (length(args) >= 6) args[6] else "sklearn"  # sklearn: min_samples counts the point itself; hdbscanlib: it does not
if (!conv %in% c("sklearn", "hdbscanlib")) stop("the convention must be sklearn or hdbscanlib, got ", conv)
PLACE <- if (length(args) >= 7) as.integer(args[7]) else NA
if (!is.na(PLACE) && !PLACE %in% 0:3) stop("the place must be a power of ten from 0 (1s) to 3 (1000s), got ", args[7])
coreMinPts <- if (conv == "sklearn") MS else MS + 1     # dbscan::coredist(x, minPts) = kNNdist(k = minPts - 1)

# HDBSCAN* with separate min_samples / min_cluster_size, composed from dbscan's own building blocks
hdbscan2 <- function(x, coreMinPts, mcs) {
  cd <- dbscan::coredist(x, coreMinPts)
  mrd <- dbscan::mrdist(x, coreMinPts, coredist = cd)
  n <- attr(mrd, "Size")
  m <- dbscan:::mst(mrd, n)
  hc <- dbscan:::hclustMergeOrder(m, order(m[, 3]))
  res <- dbscan:::computeStability(hc, mcs, compute_glosh = FALSE)
  res <- dbscan:::extractUnsupervised(res, FALSE, 0.0)   # excess of mass, no epsilon
  cl <- attr(res, "cluster"); sl <- attr(res, "salient_clusters")
  if (any(cl == 0)) match(cl, c(0, sl)) - 1 else match(cl, sl)
}

# ---- labels: recompute carry from the text
lab <- read.csv("labels.csv", stringsAsFactors = FALSE)
lab <- lab[order(lab$datapoint), ]
N <- nrow(lab)
prob <- sub("=.*", "", lab$text)
a <- as.integer(sub("\\+.*", "", prob)); b <- as.integer(sub(".*\\+", "", prob))
k <- lab$datapoint %% 4                 # k = 0 the 1000s digit
place <- 3 - k                          # 10^place
mod <- 10^place
carry <- ifelse(place == 0, FALSE, (a %% mod + b %% mod) >= mod)
# consistency checks
stopifnot(all(tapply(lab$text, lab$datapoint %/% 4, function(s) length(unique(s))) == 1))
ans <- sub(".*=", "", lab$text)
digit_ok <- all(as.integer(substr(ans, k + 1, k + 1)) == (a + b) %/% 10^place %% 10)
cat(sprintf("labels: N=%d problems=%d, answer digits consistent=%s, place column == 3-k: %s, recomputed carry == carry column: %d/%d\n",
            N, N / 4, digit_ok, all(lab$place == place), sum(carry == (lab$carry == 1)), N))
cat(sprintf("carry tokens: %d (1000s %d, 100s %d, 10s %d)\n", sum(carry), sum(carry & place == 3), sum(carry & place == 2), sum(carry & place == 1)))
inPlace <- if (is.na(PLACE)) rep(TRUE, N) else place == PLACE
if (!is.na(PLACE)) cat(sprintf("clustering only the %d tokens of place 10^%d (carry rate %.3f)\n", sum(inPlace), PLACE, mean(carry[inPlace])))

# ---- break times (eq. 6) on a checkpoint grid
break_time <- function(L, steps) {
  d <- DELTA / (steps[2] - steps[1]); nt <- length(steps)
  idx <- (1 + d):(nt - d)
  acc <- L[, idx + d, drop = FALSE] - 2 * L[, idx, drop = FALSE] + L[, idx - d, drop = FALSE]
  steps[idx[max.col(acc, ties.method = "first")]]
}

# What a cluster's places alone explain: each place's carry rate over the probe, weighted by the cluster's
# members in that place, and P(carries >= observed) when the same number of members per place is drawn at
# random within the place (a sum of hypergeometric counts, convolved with R's dhyper).
place_expected <- function(m) sum(sapply(0:3, function(s) sum(place[m] == s) * mean(carry[place == s]))) / length(m)
place_chance <- function(m) {
  dist <- 1
  for (s in 0:3) {
    n <- sum(place[m] == s); if (n == 0) next
    K <- sum(carry[place == s]); Ns <- sum(place == s)
    pmf <- dhyper(0:n, K, Ns - K, n)
    dist <- as.vector(tapply(outer(dist, pmf), outer(seq_along(dist), seq_along(pmf), "+"), sum))
  }
  min(1, sum(dist[(sum(carry[m]) + 1):length(dist)]))
}

ari <- function(x, y) {
  tab <- table(x, y); n <- sum(tab); c2 <- function(v) sum(v * (v - 1) / 2)
  s <- c2(tab); sa <- c2(rowSums(tab)); sb <- c2(colSums(tab)); e <- sa * sb / c2(n)
  (s - e) / ((sa + sb) / 2 - e)
}

evaluate <- function(L, steps, tag, dropIncrease, libcl = NULL) {
  keep <- (if (dropIncrease) L[, ncol(L)] <= 0 else rep(TRUE, nrow(L))) & inPlace
  idx <- which(keep)
  cl <- hdbscan2(L[idx, , drop = FALSE], coreMinPts, MCS)
  bt <- break_time(L[idx, , drop = FALSE], steps)
  out <- data.frame()
  for (c in sort(unique(cl[cl > 0]))) {
    m <- idx[cl == c]
    nc <- sum(carry[m])
    frac1010 <- if (nc > 0) mean(place[m][carry[m]] %in% c(1, 2)) else NA
    out <- rbind(out, data.frame(tag = tag, cluster = c, size = length(m), carryHom = mean(carry[m]),
                                 carryIn10s100s = frac1010, eligible = !is.na(frac1010) && frac1010 > 0.85,
                                 meanBreak = mean(bt[cl == c]), hidden = mean(bt[cl == c]) > TAU,
                                 n1000s = sum(place[m] == 3), n100s = sum(place[m] == 2), n10s = sum(place[m] == 1), n1s = sum(place[m] == 0),
                                 carry100s = sum(carry[m] & place[m] == 2), carry10s = sum(carry[m] & place[m] == 1),
                                 carryHom10s100s = if (any(place[m] %in% c(1, 2))) mean(carry[m][place[m] %in% c(1, 2)]) else NA,
                                 placeExpected = place_expected(m), placeChance = place_chance(m)))
  }
  full <- rep(-1L, N); full[idx] <- cl                   # -1 dropped, 0 outlier
  s <- sprintf("%s: kept %d, dropped %d, outliers %d, clusters %d [%s]", tag, length(idx), N - length(idx),
               sum(cl == 0), length(unique(cl[cl > 0])),
               if (nrow(out)) paste(sprintf("%d:%.3f%s", out$size, out$carryHom, ifelse(out$eligible, "", "(inel)")), collapse = " ") else "")
  if (!is.null(libcl) && is.na(PLACE)) {
    lib <- rep(-1L, N); lib[idx] <- 0L
    lib[libcl$datapoint + 1] <- libcl$clusterId + 1L
    s <- paste0(s, sprintf(" | ARI vs library: kept-set %.3f, all-%d %.3f (library clusters %s)",
                           ari(cl, lib[idx]), N, ari(full, ifelse(lib < 0, -1L, lib)),
                           paste(table(libcl$clusterId), collapse = "/")))
  }
  cat(s, "\n")
  list(table = out, membership = full)
}

best <- function(tb) { e <- tb[tb$eligible, ]; if (nrow(e)) e[order(-e$carryHom), ][1:min(3, nrow(e)), ] else NULL }

# ---- POLCA trajectories along the gradient-covariance basis (and, for reference, the Hessian basis)
# polca's own memberships, when the run has them (export.mjs skips a missing analysis/clusters.arrows).
read_lib <- function(libfile) if (file.exists(libfile)) read.csv(libfile, stringsAsFactors = FALSE) else NULL

run_polca <- function(file, libfile, basisName) {
  p <- read.csv(file)
  libc <- read_lib(libfile)
  steps <- c(0, sort(unique(p$toStep)))
  res <- list()
  for (col in c("firstOrder", "value")) {
    kind <- if (col == "firstOrder") "polca-first" else "polca"
    for (bid in sort(unique(p$basisId))) {
      q <- p[p$basisId == bid, ]
      M <- matrix(0, N, length(steps) - 1)
      M[cbind(q$datapoint + 1, match(q$toStep, steps) - 1)] <- q[[col]]
      stopifnot(nrow(q) == N * (length(steps) - 1))
      L <- cbind(0, t(apply(M, 1, cumsum)))      # L_b(x,t) = sum_{i<t} POLCA(x,b,i), t on the checkpoint grid
      tag <- sprintf("%s %s basis %d", basisName, col, bid)
      if (mean(L[inPlace, ncol(L)]) > 0) { cat(tag, ": oscillatory (mean projected loss rises), skipped\n"); next }
      lc <- if (is.null(libc)) NULL else libc[libc$kind == kind & libc$basisId == bid, ]
      r <- evaluate(L, steps, tag, TRUE, lc)
      res[[tag]] <- r$table
    }
  }
  do.call(rbind, res)
}

# ---- exact loss trajectories (main run)
run_loss <- function(file, libfile) {
  l <- read.csv(file); steps <- sort(unique(l$step))
  L <- matrix(NA, N, length(steps)); L[cbind(l$datapoint + 1, match(l$step, steps))] <- l$loss
  stopifnot(!anyNA(L))
  libc <- read_lib(libfile); lc <- if (is.null(libc)) NULL else libc[libc$kind == "loss", ]
  cat(sprintf("exact loss: %d datapoints whose loss rises from step 0 to %d\n", sum(L[, ncol(L)] > L[, 1]), max(steps)))
  r1 <- evaluate(L, steps, "exact loss (no drop filter)", FALSE, lc)
  Lc <- L - L[, 1]
  r2 <- evaluate(Lc, steps, "exact loss (drop rising)", TRUE, NULL)
  rbind(r1$table, r2$table)
}

cat("\n== convention:", conv, "(coredist minPts =", coreMinPts, ", min_cluster_size =", MCS, ")\n")
gc <- run_polca("compared_polca.csv", "compared_clusters.csv", "compared")
hs <- run_polca("hessian_polca.csv", "hessian_clusters.csv", "hessian")
ls <- run_loss("losses.csv", "hessian_clusters.csv")
all <- rbind(gc, hs, ls)
write.csv(all, sprintf("clusters_%s.csv", conv), row.names = FALSE)
cat("\n-- best eligible clusters --\n")
for (g in list(c("compared firstOrder"), c("compared value"), c("hessian firstOrder"), c("hessian value"),
               c("exact loss (no drop filter)"), c("exact loss (drop rising)"))) {
  b <- best(all[startsWith(all$tag, g), ])
  cat(g, ": ", if (is.null(b)) "no eligible cluster" else paste(sprintf("%.3f (n=%d [1000s/100s/10s/1s %d/%d/%d/%d], places explain %.3f, chance %.2g, %s)", b$carryHom, b$size, b$n1000s, b$n100s, b$n10s, b$n1s, b$placeExpected, b$placeChance, b$tag), collapse = " / "), "\n", sep = "")
}
bg <- function(g) { b <- best(all[startsWith(all$tag, g), ]); if (is.null(b)) NA else b$carryHom[1] }
lossBest <- bg("exact loss (no drop filter)")
cat(sprintf("difference compared firstOrder - exact loss: %+.3f ; compared value - exact loss: %+.3f\n", bg("compared firstOrder") - lossBest, bg("compared value") - lossBest))
cat(sprintf("(exact loss with drop filter: difference firstOrder %+.3f, value %+.3f)\n", bg("compared firstOrder") - bg("exact loss (drop rising)"), bg("compared value") - bg("exact loss (drop rising)")))
