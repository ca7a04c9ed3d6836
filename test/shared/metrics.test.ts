import { describe, expect, it } from 'vitest';
import { addPrediction, emptySums, mergeSums, metricsFromSums, sumsOf, type RegressionSums } from '../../shared/metrics.js';
import { Prng } from '../../shared/prng.js';

describe('regression metrics', () => {
  // Three patients, worked by hand (mg/week):
  //   actual 35, predicted 42: error  7, |7| ≤ 0.2·35 = 7 → within 20% (the boundary counts)
  //   actual 20, predicted 15: error −5, |5| > 0.2·20 = 4 → not within
  //   actual 50, predicted 50: error  0                   → within
  const three: [number, number][] = [
    [42, 35],
    [15, 20],
    [50, 50],
  ];

  it('adds predictions into sums', () => {
    const s = sumsOf(three);
    expect(s).toEqual({ n: 3, absErr: 12, within20: 2, sqErr: 74, sumY: 105, sumY2: 4125 });
  });

  it('computes MAE, PW20, R² and RMSE from the sums', () => {
    const m = metricsFromSums(sumsOf(three));
    expect(m.n).toBe(3);
    expect(m.mae).toBeCloseTo(4, 12); // 12 / 3
    expect(m.pw20).toBeCloseTo(200 / 3, 12); // 2 of 3 = 66.67 %
    // Total sum of squares: 4125 − 105²/3 = 4125 − 3675 = 450 (mean 35: 0² + 15² + 15²).
    expect(m.r2).toBeCloseTo(1 - 74 / 450, 12); // 0.83556
    expect(m.rmse).toBeCloseTo(Math.sqrt(74 / 3), 12); // 4.9666
  });

  it('leaves its arguments unchanged', () => {
    const s = emptySums();
    const t = addPrediction(s, 30, 35);
    expect(s).toEqual(emptySums());
    expect(t.n).toBe(1);
    const u = mergeSums(t, t);
    expect(t.n).toBe(1);
    expect(u.n).toBe(2);
  });

  it('merging two halves equals one pass over all predictions', () => {
    const rng = new Prng('metrics-merge');
    const pairs: [number, number][] = Array.from({ length: 101 }, () => {
      const actual = 10 + 60 * rng.next();
      return [actual * (0.6 + 0.8 * rng.next()), actual];
    });
    const whole = sumsOf(pairs);
    const merged = mergeSums(sumsOf(pairs.slice(0, 40)), sumsOf(pairs.slice(40)));
    const a = metricsFromSums(whole);
    const b = metricsFromSums(merged);
    expect(b.n).toBe(a.n);
    for (const k of ['mae', 'pw20', 'r2', 'rmse'] as const) expect(b[k]).toBeCloseTo(a[k], 10);
    // The empty sums are the identity of merging.
    expect(mergeSums(emptySums(), whole)).toEqual(whole);
    expect(mergeSums(whole, emptySums())).toEqual(whole);
  });

  it('the R² of the mean prediction is 0 and of a perfect one is 1', () => {
    const ys = [10, 20, 30, 40];
    expect(metricsFromSums(sumsOf(ys.map((y) => [25, y] as [number, number]))).r2).toBeCloseTo(0, 12);
    const perfect = metricsFromSums(sumsOf(ys.map((y) => [y, y] as [number, number])));
    expect(perfect).toEqual({ n: 4, mae: 0, pw20: 100, r2: 1, rmse: 0 });
  });

  it('is NaN where undefined: no predictions, or R² of a constant target', () => {
    const none = metricsFromSums(emptySums());
    expect(none.n).toBe(0);
    for (const k of ['mae', 'pw20', 'r2', 'rmse'] as const) expect(none[k]).toBeNaN();
    const constant: RegressionSums = sumsOf([
      [30, 35],
      [40, 35],
    ]);
    const m = metricsFromSums(constant);
    expect(m.mae).toBe(5);
    expect(m.r2).toBeNaN();
  });

  it('rejects non-finite values', () => {
    expect(() => addPrediction(emptySums(), NaN, 35)).toThrow(RangeError);
    expect(() => addPrediction(emptySums(), 35, Infinity)).toThrow(RangeError);
  });
});
