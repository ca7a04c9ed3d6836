import { describe, expect, it } from 'vitest';
import { apportion, planSites } from '../../datasets/partition.js';
import { ANCESTRIES } from '../../datasets/synthetic-cohort.js';

describe('planSites', () => {
  it('gives every site at least minRows and sums to totalPatients', () => {
    const plans = planSites({ sites: 5, seed: 'p', totalPatients: 1000, minRows: 100 });
    expect(plans.map((p) => p.siteId)).toEqual(['site-1', 'site-2', 'site-3', 'site-4', 'site-5']);
    expect(plans.reduce((s, p) => s + p.n, 0)).toBe(1000);
    expect(Math.min(...plans.map((p) => p.n))).toBeGreaterThanOrEqual(100);
    // Non-IID sizes: not all sites equal.
    expect(new Set(plans.map((p) => p.n)).size).toBeGreaterThan(1);
  });

  it('defaults to 300 patients per site and a 60-row minimum', () => {
    const plans = planSites({ sites: 8, seed: 7 });
    expect(plans.reduce((s, p) => s + p.n, 0)).toBe(2400);
    expect(Math.min(...plans.map((p) => p.n))).toBeGreaterThanOrEqual(60);
  });

  it('draws a different ancestry mix per site, each summing to 1', () => {
    const plans = planSites({ sites: 4, seed: 'mix' });
    for (const p of plans) {
      expect(ANCESTRIES.reduce((s, a) => s + p.ancestryMix[a], 0)).toBeCloseTo(1, 12);
    }
    const whites = plans.map((p) => p.ancestryMix.White);
    expect(new Set(whites).size).toBe(4);
    expect(Math.max(...whites) - Math.min(...whites)).toBeGreaterThan(0.05);
  });

  it('skews more with lower alpha', () => {
    const spread = (alpha: number): number => {
      const ws = planSites({ sites: 200, seed: 'a', alpha }).map((p) => p.ancestryMix.White);
      const m = ws.reduce((s, x) => s + x, 0) / ws.length;
      return Math.sqrt(ws.reduce((s, x) => s + (x - m) ** 2, 0) / ws.length);
    };
    // Dirichlet marginal sd for White = sqrt(0.6·0.4/(alpha+1)): 0.28 at alpha 2, 0.05 at alpha 100.
    expect(spread(2)).toBeGreaterThan(0.2);
    expect(spread(100)).toBeLessThan(0.07);
  });

  it('is deterministic and keeps existing site mixes when a site is added', () => {
    const a = planSites({ sites: 3, seed: 's' });
    expect(planSites({ sites: 3, seed: 's' })).toEqual(a);
    const b = planSites({ sites: 4, seed: 's' });
    expect(b.slice(0, 3).map((p) => p.ancestryMix)).toEqual(a.map((p) => p.ancestryMix));
  });

  it('rejects impossible plans', () => {
    expect(() => planSites({ sites: 3, seed: 's', totalPatients: 100, minRows: 60 })).toThrow(RangeError);
    expect(() => planSites({ sites: 0, seed: 's' })).toThrow(RangeError);
  });
});

describe('apportion', () => {
  it('splits exactly by largest remainder', () => {
    expect(apportion(10, [0.333, 0.333, 0.334])).toEqual([3, 3, 4]);
    expect(apportion(7, [0.5, 0.5])).toEqual([4, 3]);
    expect(apportion(0, [0.2, 0.8])).toEqual([0, 0]);
  });
});
