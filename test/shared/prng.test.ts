import { describe, expect, it } from 'vitest';
import { deriveSeed, Prng } from '../../shared/prng.js';

const N = 20_000;

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}
function variance(xs: number[]): number {
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
}
function draws(n: number, f: () => number): number[] {
  return Array.from({ length: n }, f);
}

describe('Prng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Prng('alpha');
    const b = new Prng('alpha');
    const c = new Prng('alpha2');
    const xa = draws(50, () => a.next());
    expect(draws(50, () => b.next())).toEqual(xa);
    expect(draws(50, () => c.next())).not.toEqual(xa);
    // Numeric and string forms of the same seed are the same stream.
    expect(new Prng(42).next()).toBe(new Prng('42').next());
  });

  it('next() is uniform on [0, 1)', () => {
    const r = new Prng(1);
    const xs = draws(N, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mean(xs)).toBeCloseTo(0.5, 1);
    expect(variance(xs)).toBeCloseTo(1 / 12, 2);
  });

  it('normal() has the requested mean and sd', () => {
    const r = new Prng('normal');
    const xs = draws(N, () => r.normal(10, 3));
    expect(Math.abs(mean(xs) - 10)).toBeLessThan(0.1);
    expect(Math.abs(Math.sqrt(variance(xs)) - 3)).toBeLessThan(0.1);
  });

  it('gamma(shape) has mean and variance equal to shape, including shape < 1', () => {
    const r = new Prng('gamma');
    for (const shape of [0.3, 1, 2.5, 9]) {
      const xs = draws(N, () => r.gamma(shape));
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
      expect(Math.abs(mean(xs) - shape) / shape).toBeLessThan(0.05);
      expect(Math.abs(variance(xs) - shape) / shape).toBeLessThan(0.1);
    }
    expect(() => r.gamma(0)).toThrow(RangeError);
  });

  it('dirichlet() sums to 1 and has mean alpha / sum(alpha)', () => {
    const r = new Prng('dir');
    const alpha = [1.2, 0.4, 0.24, 0.16];
    const total = alpha.reduce((s, x) => s + x, 0);
    const sums = [0, 0, 0, 0];
    let worstSumError = 0;
    for (let i = 0; i < N; i++) {
      const d = r.dirichlet(alpha);
      worstSumError = Math.max(worstSumError, Math.abs(d.reduce((s, x) => s + x, 0) - 1));
      d.forEach((x, k) => (sums[k] = (sums[k] ?? 0) + x));
    }
    expect(worstSumError).toBeLessThan(1e-12);
    sums.forEach((s, k) => expect(Math.abs(s / N - (alpha[k] ?? 0) / total)).toBeLessThan(0.01));
  });

  it('categorical() follows the probabilities and never picks a zero-probability index', () => {
    const r = new Prng('cat');
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) {
      const k = r.categorical([0.5, 0.3, 0, 0.2]);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts[2]).toBe(0);
    expect(Math.abs((counts[0] ?? 0) / N - 0.5)).toBeLessThan(0.015);
    expect(Math.abs((counts[1] ?? 0) / N - 0.3)).toBeLessThan(0.015);
    expect(Math.abs((counts[3] ?? 0) / N - 0.2)).toBeLessThan(0.015);
  });

  it('int() covers [lo, hi] inclusive and nothing else', () => {
    const r = new Prng('int');
    const seen = new Set(draws(N, () => r.int(-2, 3)));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
  });

  it('shuffle() permutes in place deterministically', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const a = new Prng('s').shuffle([...xs]);
    const b = new Prng('s').shuffle([...xs]);
    expect(a).toEqual(b);
    expect(a).not.toEqual(xs);
    expect([...a].sort((x, y) => x - y)).toEqual(xs);
    const arr = [1, 2, 3];
    expect(new Prng(0).shuffle(arr)).toBe(arr);
  });

  it('deriveSeed() separates streams by part', () => {
    expect(deriveSeed('s', 'site-1')).not.toBe(deriveSeed('s', 'site-2'));
    expect(new Prng(deriveSeed('s', 'site-1')).next()).not.toBe(new Prng(deriveSeed('s', 'site-2')).next());
  });
});
