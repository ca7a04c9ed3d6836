// Regression metrics for doses that merge across sites: each site sums its own held-out
// predictions into a RegressionSums, the sums add, and the metrics come from the total, so
// pooled metrics need no patient row to leave its site. Everything is on the original scale
// (e.g. mg/week, not sqrt). Pure: nothing here mutates its arguments.

export interface RegressionSums {
  /** Number of predictions. */
  n: number;
  /** Σ |predicted − actual|. */
  absErr: number;
  /** Count with |predicted − actual| ≤ 0.2 · actual (the PW20 numerator). */
  within20: number;
  /** Σ (predicted − actual)². */
  sqErr: number;
  /** Σ actual. */
  sumY: number;
  /** Σ actual². */
  sumY2: number;
}

export interface RegressionMetrics {
  n: number;
  /** Mean absolute error, in the target's unit. */
  mae: number;
  /** Percent of predictions within 20% of the actual value (0–100). */
  pw20: number;
  /** 1 − SSE / total sum of squares about the mean of the actual values. */
  r2: number;
  /** Root mean squared error, in the target's unit. */
  rmse: number;
}

export function emptySums(): RegressionSums {
  return { n: 0, absErr: 0, within20: 0, sqErr: 0, sumY: 0, sumY2: 0 };
}

/** The sums with one more prediction added (a new object; `sums` is left unchanged). */
export function addPrediction(sums: Readonly<RegressionSums>, predicted: number, actual: number): RegressionSums {
  if (!Number.isFinite(predicted) || !Number.isFinite(actual)) {
    throw new RangeError(`prediction and actual value must be finite numbers, got ${predicted} and ${actual}`);
  }
  const err = predicted - actual;
  const abs = Math.abs(err);
  return {
    n: sums.n + 1,
    absErr: sums.absErr + abs,
    within20: sums.within20 + (abs <= 0.2 * actual ? 1 : 0),
    sqErr: sums.sqErr + err * err,
    sumY: sums.sumY + actual,
    sumY2: sums.sumY2 + actual * actual,
  };
}

/** Sums over the union of two disjoint sets of predictions. */
export function mergeSums(a: Readonly<RegressionSums>, b: Readonly<RegressionSums>): RegressionSums {
  return {
    n: a.n + b.n,
    absErr: a.absErr + b.absErr,
    within20: a.within20 + b.within20,
    sqErr: a.sqErr + b.sqErr,
    sumY: a.sumY + b.sumY,
    sumY2: a.sumY2 + b.sumY2,
  };
}

/** Sums of a list of predicted/actual pairs (convenience for one place holding all of them). */
export function sumsOf(pairs: Iterable<readonly [predicted: number, actual: number]>): RegressionSums {
  let s = emptySums();
  for (const [p, y] of pairs) s = addPrediction(s, p, y);
  return s;
}

/**
 * MAE, PW20 (%), R² and RMSE. With no predictions every metric is NaN; R² is NaN too when the
 * actual values do not vary (its denominator is 0).
 */
export function metricsFromSums(s: Readonly<RegressionSums>): RegressionMetrics {
  if (s.n === 0) return { n: 0, mae: NaN, pw20: NaN, r2: NaN, rmse: NaN };
  const totalSS = s.sumY2 - (s.sumY * s.sumY) / s.n;
  // Below this, totalSS is rounding noise of a constant target, not variation.
  const varies = totalSS > 1e-12 * s.sumY2;
  return {
    n: s.n,
    mae: s.absErr / s.n,
    pw20: (100 * s.within20) / s.n,
    r2: varies ? 1 - s.sqErr / totalSS : NaN,
    rmse: Math.sqrt(s.sqErr / s.n),
  };
}
