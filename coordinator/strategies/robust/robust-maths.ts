// Robust aggregation rules as plain functions over numbers and typed arrays (no state, no I/O),
// each tested on small hand-worked vectors. Every site counts once: robust rules are unweighted.

/** The median of `values` (sorted in place): the middle value, or the mean of the two middle ones. */
export function median(values: Float64Array): number {
  values.sort();
  const n = values.length;
  const h = n >> 1;
  return n % 2 === 1 ? values[h]! : (values[h - 1]! + values[h]!) / 2;
}

/** How many values a β-trimmed mean drops from each end of n. */
export const trimCount = (n: number, beta: number): number => Math.floor(beta * n);

/** The mean of `values` (sorted in place) without the ⌊β·n⌋ smallest and largest. */
export function trimmedMean(values: Float64Array, beta: number): number {
  values.sort();
  const k = trimCount(values.length, beta);
  let s = 0;
  for (let i = k; i < values.length - k; i++) s += values[i]!;
  return s / (values.length - 2 * k);
}

/**
 * Krum scores (Blanchard et al. 2017): for each update, the sum of its squared distances to its
 * n − f − 2 nearest others. `d2[i][j]` is the squared distance between updates i and j.
 */
export function krumScores(d2: readonly Float64Array[], f: number): number[] {
  const n = d2.length;
  const nearest = n - f - 2;
  return d2.map((row, i) => {
    const others = Float64Array.from(row.filter((_, j) => j !== i)).sort();
    let s = 0;
    for (let k = 0; k < nearest; k++) s += others[k]!;
    return s;
  });
}

/** Multi-Krum: the m updates with the lowest Krum scores (ties by index), as indexes in ascending order. */
export function multiKrumSelect(d2: readonly Float64Array[], f: number, m: number): number[] {
  const scores = krumScores(d2, f);
  return scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, m)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

/** Centered clipping's factor for a difference of L2 norm `norm` (Karimireddy et al. 2021): min(1, τ/‖x − v‖). */
export const clipFactor = (norm: number, tau: number): number => (norm <= tau ? 1 : tau / norm);
