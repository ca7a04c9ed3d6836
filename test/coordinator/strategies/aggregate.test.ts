// The aggregation maths on small hand-worked vectors.

import { describe, expect, it } from 'vitest';
import { adamStep, foldWeighted, meanOf } from '../../../coordinator/strategies/aggregate.js';

const f64 = (...xs: number[]): Float64Array => Float64Array.from(xs);
const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);

describe('foldWeighted', () => {
  it('dst = src + w·x: [1, 2, 3] + 3·[0.5, −1, 2] = [2.5, −1, 9] (odd length: the last value alone)', () => {
    const src = f64(1, 2, 3);
    const dst = f64(7, 7, 7);
    expect(foldWeighted(dst, src, 3, f32(0.5, -1, 2))).toBe(true);
    expect(Array.from(dst)).toEqual([2.5, -1, 9]);
    expect(Array.from(src)).toEqual([1, 2, 3]);
  });

  it('even length and empty tensors', () => {
    const dst = f64(0, 0, 0, 0);
    expect(foldWeighted(dst, f64(1, 1, 1, 1), 2, f32(1, 2, 3, 4))).toBe(true);
    expect(Array.from(dst)).toEqual([3, 5, 7, 9]);
    expect(foldWeighted(f64(), f64(), 5, f32())).toBe(true);
  });

  it('sums in float64: 2^24 + 1·1 is 16777217, which float32 cannot hold', () => {
    const dst = f64(0);
    expect(foldWeighted(dst, f64(2 ** 24), 1, f32(1))).toBe(true);
    expect(dst[0]).toBe(16777217);
  });

  it('false for NaN or ±Infinity anywhere (first, middle, last of an odd length), and src is never written', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, 2, 4]) {
        const x = f32(1, 2, 3, 4, 5);
        x[at] = bad;
        const src = f64(0.1, 0.2, 0.3, 0.4, 0.5);
        expect(foldWeighted(new Float64Array(5), src, 7, x), `${bad} at ${at}`).toBe(false);
        expect(Array.from(src)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
      }
    }
  });

  it('+Infinity and −Infinity in one update are still refused (their sum is NaN, not 0)', () => {
    expect(foldWeighted(new Float64Array(2), f64(0, 0), 1, f32(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY))).toBe(false);
  });
});

describe('meanOf', () => {
  it('[16, 20, 24] / 4 = [4, 5, 6]; 1/3 is rounded once to float32', () => {
    expect(Array.from(meanOf(f64(16, 20, 24), 4))).toEqual([4, 5, 6]);
    const third = meanOf(f64(1), 3);
    expect(third).toBeInstanceOf(Float32Array);
    expect(third[0]).toBe(Math.fround(1 / 3));
  });
});

describe('adamStep', () => {
  const H = { serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 0.001 };
  // The new weights are float32 (7 digits); the moments float64.
  const close = (actual: Float32Array | Float64Array, expected: number[]): void =>
    expected.forEach((x, i) => expect(actual[i]).toBeCloseTo(x, actual instanceof Float32Array ? 6 : 12));

  it('round 1: w = [0, 0], one site (n = 1) sends [1, −2]', () => {
    // Δ = [1, −2]; m = 0.1·Δ = [0.1, −0.2]; v = 0.01·Δ² = [0.01, 0.04]; √v = [0.1, 0.2]
    // w' = 0.1·m/(√v + 0.001) = [0.01/0.101, −0.02/0.201]
    const m = f64(0, 0);
    const v = f64(0, 0);
    const w = adamStep(f32(0, 0), f64(1, -2), 1, m, v, H);
    close(w, [0.0990099009901, -0.0995024875622]);
    close(m, [0.1, -0.2]);
    close(v, [0.01, 0.04]);
  });

  it('round 2 carries the moments: w = [0.5, 0.5], sums [3, 8] over 4 examples', () => {
    // mean = [0.75, 2], Δ = [0.25, 1.5]; m = 0.9·[0.1, −0.2] + 0.1·Δ = [0.115, −0.03]
    // v = 0.99·[0.01, 0.04] + 0.01·Δ² = [0.010525, 0.0621]; √v = [0.1025914226434, 0.2491987158875]
    // w' = 0.5 + 0.1·m/(√v + 0.001) = [0.6110130521094, 0.4880095307869]
    const m = f64(0.1, -0.2);
    const v = f64(0.01, 0.04);
    const w = adamStep(f32(0.5, 0.5), f64(3, 8), 4, m, v, H);
    close(w, [0.6110130521094, 0.4880095307869]);
    close(m, [0.115, -0.03]);
    close(v, [0.010525, 0.0621]);
  });

  it('β1 = β2 = 0: a sign-like step w + η·Δ/(|Δ| + τ)', () => {
    // Δ = [1, −2]: [1/(1 + 1), −2/(2 + 1)] with η = 1, τ = 1
    close(adamStep(f32(0, 0), f64(1, -2), 1, f64(0, 0), f64(0, 0), { serverLr: 1, beta1: 0, beta2: 0, tau: 1 }), [0.5, -2 / 3]);
  });
});
