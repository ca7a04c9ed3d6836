import { describe, expect, it } from 'vitest';
import { logAbsBinomial, logErfc } from '../../../shared/privacy/log-math.js';
import { composeRdp, DEFAULT_ORDERS, epsilonFromRdp, epsilonOf, noiseForEpsilon, rdpSampledGaussian } from '../../../shared/privacy/rdp.js';

const ORDERS_2_32 = Array.from({ length: 31 }, (_, k) => k + 2);

describe('RDP accountant of the sampled Gaussian mechanism', () => {
  it('gives the published value: (q=1e-5, σ=1, 10 steps) ∘ (q=1e-4, σ=3, 4 steps), orders 2..32, δ=1e-5 → ε ≈ 0.336 at α = 23', () => {
    const rdp = composeRdp([{ q: 1e-5, sigma: 1, steps: 10 }, { q: 1e-4, sigma: 3, steps: 4 }], ORDERS_2_32);
    const { epsilon, order } = epsilonFromRdp(rdp, ORDERS_2_32, 1e-5);
    expect(epsilon).toBeCloseTo(0.336, 3);
    expect(epsilon).toBeCloseTo(0.33634406339259565, 9); // Opacus' formulas in float64 (scipy)
    expect(order).toBe(23);
  });

  it('is α/(2σ²) for q = 1', () => {
    expect(rdpSampledGaussian(1, 2, 8)).toBe(1);
    expect(rdpSampledGaussian(1, 0.5, 3.5)).toBe(7);
  });

  it('at α = 2 is log(1 + q²(e^(1/σ²) − 1)), worked by hand', () => {
    // A₂ = (1−q)² + 2q(1−q) + q²·e^(1/σ²) = 1 + q²(e^(1/σ²) − 1); q = 0.5, σ = 1: log(1 + (e − 1)/4)
    expect(rdpSampledGaussian(0.5, 1, 2)).toBeCloseTo(Math.log(1 + (Math.E - 1) / 4), 14);
  });

  it('matches Opacus at integer and fractional orders (values from its formulas under scipy)', () => {
    const cases: [number, number, number, number][] = [
      [0.01, 1.1, 2, 0.00012851008160514807],
      [0.01, 1.1, 10, 0.0008075821730220518],
      [0.3, 0.8, 3, 0.7649122077691481],
      [0.01, 1.1, 1.5, 9.554528557684942e-5],
      [0.01, 1.1, 7.3, 0.0005231749305778287],
      [0.3, 0.8, 2.5, 0.48110303233109225],
      [0.3, 0.8, 7.3, 4.308189111604422],
    ];
    for (const [q, sigma, alpha, want] of cases) expect(rdpSampledGaussian(q, sigma, alpha) / want).toBeCloseTo(1, 9);
  });

  it('converts with the default orders as Opacus does', () => {
    expect(epsilonOf([{ q: 0.01, sigma: 1.1, steps: 1000 }], 1e-5)).toBeCloseTo(1.7117700912203435, 8);
    expect(epsilonOf([{ q: 0.1, sigma: 2, steps: 50 }], 1e-5)).toBeCloseTo(1.8439516379468925, 8);
    const full = epsilonFromRdp(composeRdp([{ q: 1, sigma: 5, steps: 40 }]), DEFAULT_ORDERS, 1 / 22);
    expect(full.epsilon).toBeCloseTo(2.9291990644250987, 10);
    expect(full.order).toBeCloseTo(2.6, 12);
  });

  it('costs nothing at q = 0 and everything at σ = 0', () => {
    expect(rdpSampledGaussian(0, 1, 4)).toBe(0);
    expect(rdpSampledGaussian(0.2, 0, 4)).toBe(Infinity);
    expect(epsilonOf([{ q: 0.2, sigma: 0, steps: 1 }], 1e-5)).toBe(Infinity);
  });

  it('grows with q and with the steps, falls with σ', () => {
    const e = (q: number, sigma: number, steps: number): number => epsilonOf([{ q, sigma, steps }], 1e-5);
    const qs = [0.01, 0.05, 0.2, 0.5, 1].map((q) => e(q, 1.2, 20));
    const ts = [1, 5, 20, 100].map((t) => e(0.2, 1.2, t));
    const ss = [0.7, 1, 2, 4, 8].map((s) => e(0.2, s, 20));
    for (let k = 1; k < qs.length; k++) expect(qs[k]).toBeGreaterThan(qs[k - 1]!);
    for (let k = 1; k < ts.length; k++) expect(ts[k]).toBeGreaterThan(ts[k - 1]!);
    for (let k = 1; k < ss.length; k++) expect(ss[k]).toBeLessThan(ss[k - 1]!);
  });

  it('composes by adding RDP order by order', () => {
    const one = composeRdp([{ q: 0.1, sigma: 1.5, steps: 3 }], ORDERS_2_32);
    const two = composeRdp([{ q: 0.1, sigma: 1.5, steps: 1 }, { q: 0.1, sigma: 1.5, steps: 2 }], ORDERS_2_32);
    one.forEach((x, k) => expect(two[k]).toBeCloseTo(x, 14));
  });

  it('noiseForEpsilon finds the σ that spends the target, and no less noise does', () => {
    for (const [target, q, steps] of [[1, 1, 20], [4, 0.5, 40], [8, 1, 100]] as const) {
      const sigma = noiseForEpsilon(target, 1e-5, q, steps);
      expect(epsilonOf([{ q, sigma, steps }], 1e-5)).toBeLessThanOrEqual(target);
      expect(epsilonOf([{ q, sigma: sigma * 0.999, steps }], 1e-5)).toBeGreaterThan(target);
    }
    // q = 1, one step: ε = min_α α/(2σ²) + … is hand-checkable through the closed form
    const sigma = noiseForEpsilon(2, 1e-5, 1, 1);
    expect(epsilonOf([{ q: 1, sigma, steps: 1 }], 1e-5)).toBeCloseTo(2, 3);
    expect(() => noiseForEpsilon(0, 1e-5, 1, 1)).toThrow(RangeError);
  });

  it('refuses δ outside (0, 1) and a sampling rate outside [0, 1]', () => {
    expect(() => epsilonFromRdp([1], [2], 1)).toThrow(RangeError);
    expect(() => rdpSampledGaussian(1.5, 1, 2)).toThrow(RangeError);
  });
});

describe('log-space helpers', () => {
  it('log erfc matches scipy across the series and the continued fraction', () => {
    const ref: [number, number][] = [
      [-2, 0.6908055736465877], [-0.5, 0.4190391477755596], [0, 0], [0.5, -0.7350111298370848], [1, -1.849605509933249],
      [2.9, -10.099554065545236], [3, -10.720363041981116], [3.1, -11.360319632044744], [5, -27.200889545537446],
      [10, -102.87988902484493], [30, -903.9741171106442],
    ];
    for (const [x, want] of ref) expect(logErfc(x)).toBeCloseTo(want, 10);
  });

  it('binomial coefficients of a fractional order carry their sign', () => {
    // C(2.5, 3) = 2.5·1.5·0.5/6 = 0.3125; C(2.5, 4) = 0.3125·(−0.5)/4 = −0.0390625
    expect(Math.exp(logAbsBinomial(2.5, 3).log)).toBeCloseTo(0.3125, 14);
    expect(logAbsBinomial(2.5, 4).sign).toBe(-1);
    expect(Math.exp(logAbsBinomial(2.5, 4).log)).toBeCloseTo(0.0390625, 14);
    expect(Math.exp(logAbsBinomial(10, 3).log)).toBeCloseTo(120, 10);
  });
});
