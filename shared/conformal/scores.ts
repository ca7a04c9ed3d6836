// Nonconformity scores and what a conformal quantile q makes of a prediction. Regression scores
// are taken in model space (standardised, transformed target): the interval [ẑ − q, ẑ + q] there
// maps back through the target's monotone inverse transform into the unit (e.g. mg/week), so a row
// inside one is inside the other and the coverage carries over (the interval in the unit is
// asymmetric for a sqrt or log target).

/** |ẑ − z|, both in model space. */
export const regressionScore = (predicted: number, actual: number): number => Math.abs(predicted - actual);

/** 1 − p̂(true class). */
export const classScore = (probabilities: ArrayLike<number>, trueClass: number): number => Math.max(0, 1 - probabilities[trueClass]!);

/** Model-space interval around ẑ; an unbounded q (Infinity) gives (−∞, ∞). */
export const modelInterval = (predicted: number, q: number): [number, number] => [predicted - q, predicted + q];

/** The classes whose score 1 − p̂ is at most q, in class order: the calibrated prediction set. */
export function predictionSet<C>(classes: readonly C[], probabilities: ArrayLike<number>, q: number): C[] {
  return classes.filter((_, c) => 1 - probabilities[c]! <= q);
}
