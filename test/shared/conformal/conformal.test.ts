import { describe, expect, it } from 'vitest';
import { checkCoverage, conformalRank, DEFAULT_COVERAGE } from '../../../shared/conformal/coverage.js';
import { federatedQuantile } from '../../../shared/conformal/federated-quantile.js';
import { classScore, modelInterval, predictionSet, regressionScore } from '../../../shared/conformal/scores.js';
import { addScore, binOf, checkSketch, emptySketch, mergeSketches, REGRESSION_LAYOUT, sketchQuantile, upperEdge } from '../../../shared/conformal/score-sketch.js';
import { isFedrxError } from '../../../shared/errors.js';
import { Prng } from '../../../shared/prng.js';

const tiny = { width: 0.1, bins: 5 }; // bins (0,.1] (.1,.2] … (.4,.5], then overflow

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isFedrxError(e) ? e.code : 'uncoded';
  }
  return undefined;
};

describe('conformalRank: ⌈(N + K)(1 − α)⌉', () => {
  it('matches hand-worked ranks', () => {
    expect(conformalRank(100, 10, 0.9)).toBe(99); // 110 × 0.9 = 99.00000000000001 in floating point
    expect(conformalRank(18, 2, 0.9)).toBe(18);
    expect(conformalRank(9, 1, 0.9)).toBe(9);
    expect(conformalRank(5, 1, 0.9)).toBe(6); // 5.4 → 6 > N: unbounded
    expect(conformalRank(1000, 4, 0.8)).toBe(804); // 803.2 → 804
    expect(DEFAULT_COVERAGE).toBe(0.9);
  });

  it('refuses a coverage of 0, 1, NaN or outside (0, 1) with E_BAD_COVERAGE', () => {
    for (const c of [0, 1, NaN, -0.1, 1.5, Infinity]) expect(codeOf(() => checkCoverage(c))).toBe('E_BAD_COVERAGE');
    expect(codeOf(() => conformalRank(10, 1, 1))).toBe('E_BAD_COVERAGE');
    expect(checkCoverage(0.95)).toBe(0.95);
  });
});

describe('score sketch', () => {
  it('bins a score into the bin whose upper edge is the first at or above it', () => {
    expect([0, 0.05, 0.1, 0.1000001, 0.3, 0.5, 0.51, 7].map((s) => binOf(tiny, s))).toEqual([0, 0, 0, 1, 2, 4, 5, 5]);
    expect(upperEdge(tiny, 2)).toBeCloseTo(0.3, 12);
    expect(upperEdge(tiny, 2)).toBeGreaterThanOrEqual(0.3);
    expect(upperEdge(tiny, 5)).toBe(Infinity);
    expect(() => binOf(tiny, -1)).toThrow(RangeError);
    expect(() => binOf(tiny, NaN)).toThrow(RangeError);
  });

  it('gives the upper edge of the bin holding the k-th score, and Infinity past the last score or in the overflow', () => {
    const counts = emptySketch(tiny);
    for (const s of [0.02, 0.09, 0.25, 0.21, 0.3, 0.33, 0.9]) addScore(counts, tiny, s);
    expect(counts).toEqual([2, 0, 3, 1, 0, 1]);
    expect(sketchQuantile(tiny, counts, 1)).toBeCloseTo(0.1, 12);
    expect(sketchQuantile(tiny, counts, 3)).toBeCloseTo(0.3, 12);
    expect(sketchQuantile(tiny, counts, 6)).toBeCloseTo(0.4, 12);
    expect(sketchQuantile(tiny, counts, 7)).toBe(Infinity); // the 7th score is in the overflow bin
    expect(sketchQuantile(tiny, counts, 8)).toBe(Infinity); // there is no 8th score
  });

  it('is conservative: never below the exact order statistic, above it by less than one bin', () => {
    const rng = new Prng(7);
    const scores = Array.from({ length: 500 }, () => Math.abs(rng.normal()));
    const counts = emptySketch(REGRESSION_LAYOUT);
    for (const s of scores) addScore(counts, REGRESSION_LAYOUT, s);
    const sorted = [...scores].sort((a, b) => a - b);
    for (const k of [1, 50, 250, 451, 500]) {
      const q = sketchQuantile(REGRESSION_LAYOUT, counts, k);
      expect(q).toBeGreaterThanOrEqual(sorted[k - 1]!);
      expect(q - sorted[k - 1]!).toBeLessThan(REGRESSION_LAYOUT.width);
    }
  });

  it('merges sites bin by bin, and the merged quantile equals the pooled one', () => {
    const a = emptySketch(tiny);
    const b = emptySketch(tiny);
    [0.05, 0.15, 0.45].forEach((s) => addScore(a, tiny, s));
    [0.25, 0.35, 0.6].forEach((s) => addScore(b, tiny, s));
    expect(mergeSketches(tiny, [a, b])).toEqual([1, 1, 1, 1, 1, 1]);
    expect(() => mergeSketches(tiny, [a, [1, 2]])).toThrow(RangeError);
  });

  it('refuses a sketch of the wrong size, a negative or fractional count, or totals that do not match its rows (E_BAD_SKETCH)', () => {
    expect(codeOf(() => checkSketch(tiny, [1, 0, 0, 0, 0], 1))).toBe('E_BAD_SKETCH');
    expect(codeOf(() => checkSketch(tiny, [2, -1, 0, 0, 0, 0], 1))).toBe('E_BAD_SKETCH');
    expect(codeOf(() => checkSketch(tiny, [0.5, 0.5, 0, 0, 0, 0], 1))).toBe('E_BAD_SKETCH');
    expect(codeOf(() => checkSketch(tiny, [1, 1, 0, 0, 0, 0], 3))).toBe('E_BAD_SKETCH');
    expect(codeOf(() => checkSketch(tiny, [1, 2, 0, 0, 0, 0], 3))).toBeUndefined();
  });
});

describe('federatedQuantile', () => {
  it('takes the ⌈(N+K)(1−α)⌉-th pooled score over the sites with calibration rows', () => {
    // Regression layout, 0.005 wide: site A scores 0.001…, site B; N = 8, K = 2, 80% → rank ⌈8⌉ = 8.
    const sketch = (scores: number[]): number[] => {
      const c = emptySketch(REGRESSION_LAYOUT);
      scores.forEach((s) => addScore(c, REGRESSION_LAYOUT, s));
      return c;
    };
    const a = { rows: 4, counts: sketch([0.1, 0.2, 0.3, 0.4]) };
    const b = { rows: 4, counts: sketch([0.5, 0.6, 0.7, 1.234]) };
    const none = { rows: 0, counts: emptySketch(REGRESSION_LAYOUT) };
    const r = federatedQuantile('interval', 0.8, [a, b, none]);
    expect(r).toMatchObject({ kind: 'interval', coverage: 0.8, calibrationRows: 8, sites: 2 });
    expect(r.quantile).toBeCloseTo(1.235, 9); // upper edge of the bin (1.230, 1.235] holding 1.234
    // 70%: rank ⌈7⌉ = 7 → 0.7's bin, upper edge 0.7
    expect(federatedQuantile('interval', 0.7, [a, b]).quantile).toBeCloseTo(0.7, 9);
    // 90%: rank ⌈9⌉ = 9 > 8 rows: unbounded
    expect(federatedQuantile('interval', 0.9, [a, b]).quantile).toBeNull();
    expect(federatedQuantile('set', 0.9, []).quantile).toBeNull();
  });
});

describe('scores and what a quantile makes of a prediction', () => {
  it('regression: |ẑ − z| and the model-space interval', () => {
    expect(regressionScore(1.5, 0.25)).toBe(1.25);
    expect(regressionScore(-1, 1)).toBe(2);
    expect(modelInterval(0.5, 0.25)).toEqual([0.25, 0.75]);
    expect(modelInterval(0, Infinity)).toEqual([-Infinity, Infinity]);
  });

  it('classification: 1 − p̂(true class) and the classes with 1 − p̂ ≤ q', () => {
    expect(classScore([0.7, 0.2, 0.1], 1)).toBeCloseTo(0.8, 12);
    expect(predictionSet(['a', 'b', 'c'], [0.7, 0.2, 0.1], 0.85)).toEqual(['a', 'b']);
    expect(predictionSet(['a', 'b', 'c'], [0.7, 0.2, 0.1], 0.2)).toEqual([]);
    expect(predictionSet(['a', 'b', 'c'], [0.7, 0.2, 0.1], 1)).toEqual(['a', 'b', 'c']);
  });
});
