// Class probabilities from a classifier's raw outputs: one logit for two classes (sigmoid, the
// probability of the second class), one per class otherwise (softmax). The coordinator answers
// clinicians with them and sites score their held-out rows with them, so both read a model alike.

/** Probabilities of every class for row `i` of a row-major output block of `k` columns. */
export function classProbabilities(out: ArrayLike<number>, classes: number, i = 0): number[] {
  if (classes === 2) {
    const p = 1 / (1 + Math.exp(-out[i]!));
    return [1 - p, p];
  }
  const z = Array.from({ length: classes }, (_, c) => out[i * classes + c]!);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Index of the most probable class (the first on a tie). */
export const mostProbable = (probs: readonly number[]): number => probs.indexOf(Math.max(...probs));
