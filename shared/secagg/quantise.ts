// Updates into the ring and back: each coordinate is clipped to [−c, c], mapped to [0, Q−1] and
// rounded stochastically (unbiased: E[q] is the exact value), so a sum of m quantised values
// dequantises to the sum of the clipped values with zero-mean error of at most m·step.

/** Quantisation levels for `bits`. */
export const levelsOf = (bits: number): number => 2 ** bits;

/**
 * Writes the quantised `x` into `out` from `offset`; `uniform` gives numbers in [0, 1).
 * Returns how many coordinates were clipped.
 */
export function quantiseInto(x: ArrayLike<number>, clip: number, bits: number, uniform: () => number, out: Uint32Array, offset: number): number {
  const top = levelsOf(bits) - 1;
  const scale = top / (2 * clip);
  let clipped = 0;
  for (let i = 0; i < x.length; i++) {
    let v = x[i]!;
    if (v > clip) {
      v = clip;
      clipped++;
    } else if (v < -clip) {
      v = -clip;
      clipped++;
    }
    const level = (v + clip) * scale;
    const lo = Math.floor(level);
    out[offset + i] = Math.min(top, lo + (uniform() < level - lo ? 1 : 0));
  }
  return clipped;
}

/** A weight in [0, 1] as a level of [0, Q−1], rounded stochastically. */
export function quantiseUnit(w: number, bits: number, uniform: () => number): number {
  const top = levelsOf(bits) - 1;
  const level = Math.min(1, Math.max(0, w)) * top;
  const lo = Math.floor(level);
  return Math.min(top, lo + (uniform() < level - lo ? 1 : 0));
}

/** The sum of `m` sites' clipped values from the sum of their levels (a uint32 with no wrap). */
export function dequantiseSum(levels: number, m: number, clip: number, bits: number): number {
  return (levels * 2 * clip) / (levelsOf(bits) - 1) - m * clip;
}

/** The sum of `m` unit weights from the sum of their levels. */
export const dequantiseUnitSum = (levels: number, bits: number): number => levels / (levelsOf(bits) - 1);
