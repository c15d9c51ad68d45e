/**
 * Seeded pseudo-random numbers for the arithmetic example: data sampling and
 * weight initialisation must be reproducible across backends and runs, which
 * `Math.random` and tfjs's backend-specific random ops are not.
 *
 * @packageDocumentation
 */

/** A stream of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): tiny, fast, and good enough
 * for sampling problems and initial weights.
 *
 * @param seed - any integer; only its low 32 bits matter.
 * @returns a function returning uniform numbers in [0, 1).
 * @example
 * ```ts
 * const rng = mulberry32(7);
 * const u = rng(); // 0 ≤ u < 1, the same on every run
 * ```
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A uniform integer in [lo, hi] (both inclusive).
 *
 * @example
 * ```ts
 * const a = randomInt(mulberry32(1), 100, 999);
 * ```
 */
export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/**
 * Fills an array with independent N(0, std²) samples (Box–Muller).
 *
 * @example
 * ```ts
 * const w = normalArray(mulberry32(3), 64 * 64, 0.02);
 * ```
 */
export function normalArray(rng: Rng, length: number, std: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    // 1 − u keeps the argument of log inside (0, 1].
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const phi = 2 * Math.PI * rng();
    out[i] = std * r * Math.cos(phi);
    if (i + 1 < length) out[i + 1] = std * r * Math.sin(phi);
  }
  return out;
}
