// The robust rules on hand-worked vectors, their reports for the ledger, the on-disk buffer, and
// the combinations a run refuses.

import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { thrownCode } from '../../helpers/error-code.js';
import { buildRunConfig } from '../../../coordinator/http/run-config.js';
import { createStrategy } from '../../../coordinator/strategies/registry.js';
import { krumScores, median, multiKrumSelect, trimmedMean } from '../../../coordinator/strategies/robust/robust-maths.js';
import type { RoundContext } from '../../../coordinator/strategies/types.js';
import { ctx, GLOBAL_HASH, update, values, weights } from './fixtures.js';

/** Five sites A..E, global model zero. */
const five = (): RoundContext => ({ ...ctx(), selected: new Set(['A', 'B', 'C', 'D', 'E']) });
const on = (values: number[]): ReturnType<typeof update>[] => values.map((v, i) => update('ABCDE'[i]!, 10 + i, [v, 2 * v, 0], [v]));


afterEach(() => {
  delete process.env.FEDRX_ROBUST_BUFFER_MB;
});

describe('robust maths', () => {
  it('median, trimmed mean and Krum scores by hand', () => {
    expect(median(Float64Array.from([3, 1, 2]))).toBe(2);
    expect(median(Float64Array.from([4, 1, 3, 2]))).toBe(2.5);
    // β = 0.2 of 5 drops one at each end: (2 + 3 + 4) / 3.
    expect(trimmedMean(Float64Array.from([100, 1, 3, 2, 4]), 0.2)).toBe(3);
    // Points 0, 1, 2, 3, 100 on a line, f = 1: each scored by its n − f − 2 = 2 nearest squared distances.
    const pts = [0, 1, 2, 3, 100];
    const d2 = pts.map((a) => Float64Array.from(pts, (b) => (a - b) ** 2));
    expect(krumScores(d2, 1)).toEqual([5, 2, 2, 5, 9409 + 9604]);
    expect(multiKrumSelect(d2, 1, 4)).toEqual([0, 1, 2, 3]);
    expect(multiKrumSelect(d2, 1, 1)).toEqual([1]);
  });
});

describe('robust strategies', () => {
  it('median: each weight the middle value; the sites set aside named with their share of weights', () => {
    const agg = createStrategy('median', {}).beginRound(ctx());
    agg.accept(update('A', 1, [1, 2, 3], [10]));
    agg.accept(update('B', 9, [5, 6, 7], [20]));
    agg.accept(update('C', 1, [-4, 0, 2], [0]));
    const r = agg.finalize();
    expect(values(r)).toEqual([[1, 2, 3], [10]]); // unweighted: B's 9 examples do not pull it
    expect(r?.robust).toEqual({ rule: 'median', excluded: [], clipped: [], trimmed: [{ siteId: 'B', share: 1 }, { siteId: 'C', share: 1 }] });
  });

  it('trimmed mean β = 0.2 over five sites drops the highest and lowest value of each weight', () => {
    const agg = createStrategy('trimmed-mean', { trimBeta: 0.2 }).beginRound(five());
    for (const u of on([1, 2, 3, 4, 100])) agg.accept(u);
    const r = agg.finalize();
    expect(values(r)).toEqual([[3, 6, 0], [3]]);
    expect(r?.robust?.rule).toBe('trimmed-mean β=0.2');
    // A and E trimmed at 3 of 4 weights (w2 is 0 everywhere: ties keep site order, A and E trimmed there too).
    expect(r?.robust?.trimmed).toEqual([{ siteId: 'A', share: 1 }, { siteId: 'E', share: 1 }]);
  });

  it('multi-krum f = 1 keeps the four closest updates and names the one it excluded', () => {
    const agg = createStrategy('multi-krum', { byzantine: 1 }).beginRound(five());
    for (const u of on([0, 1, 2, 3, 100])) agg.accept(u);
    const r = agg.finalize();
    expect(values(r)).toEqual([[1.5, 3, 0], [1.5]]);
    expect(r?.contributors).toBe(4);
    expect(r?.robust?.excluded.map((e) => e.siteId)).toEqual(['E']);
    expect(r?.robust?.excluded[0]?.reason).toMatch(/^Krum score .* above the 4 kept/);
  });

  it('centered clipping τ = 1 scales an update 5 away from the global model by 0.2, streaming', () => {
    const agg = createStrategy('centered-clipping', { clipTau: 1 }).beginRound(ctx());
    agg.accept(update('A', 1, [3, 4, 0], [0])); // ‖Δ‖ = 5 → ×0.2 → [0.6, 0.8, 0]
    agg.accept(update('B', 1, [0.3, 0.4, 0], [0])); // ‖Δ‖ = 0.5 → unchanged
    const r = agg.finalize();
    expect(values(r)[0]!.map((x) => Number(x.toFixed(6)))).toEqual([0.45, 0.6, 0]);
    expect(r?.robust?.clipped).toEqual([{ siteId: 'A', factor: 0.2 }]);
    expect(agg.accept(update('C', 1, [0, 0, 0], [0]))).toMatchObject({ accepted: false, code: 'E_STALE_ROUND' });
  });

  it('refuses what FedAvg refuses, and a non-finite update, without keeping it', () => {
    for (const name of ['median', 'trimmed-mean', 'multi-krum', 'centered-clipping'] as const) {
      const agg = createStrategy(name, {}).beginRound(five());
      expect(agg.accept({ ...update('A', 1, [Number.NaN, 0, 0], [0]) }), name).toMatchObject({ accepted: false, code: 'E_NON_FINITE' });
      expect(agg.accept({ ...update('Z', 1, [0, 0, 0], [0]) }), name).toMatchObject({ accepted: false, code: 'E_NOT_SELECTED' });
      expect(agg.accept({ ...update('A', 1, [0, 0, 0], [0]), baseModelHash: 'f'.repeat(64) }), name).toMatchObject({ accepted: false, code: 'E_BASE_MODEL' });
      expect(agg.accepted, name).toBe(0);
      expect(GLOBAL_HASH).toHaveLength(64);
    }
  });

  it('beyond its memory budget the buffer spills updates to a temporary file, with the same result, removed afterwards', () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('fedrx-updates-')).length;
    const inMemory = createStrategy('trimmed-mean', { trimBeta: 0.2 }).beginRound(five());
    for (const u of on([5, 1, 4, 2, 3])) inMemory.accept(u);
    process.env.FEDRX_ROBUST_BUFFER_MB = '0';
    const onDisk = createStrategy('trimmed-mean', { trimBeta: 0.2 }).beginRound(five());
    for (const u of on([5, 1, 4, 2, 3])) onDisk.accept(u);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('fedrx-updates-')).length).toBe(before + 1);
    expect(values(onDisk.finalize())).toEqual(values(inMemory.finalize()));
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('fedrx-updates-')).length).toBe(before);
    expect(existsSync(tmpdir())).toBe(true);
    expect(weights([0, 0, 0], [0])).toHaveLength(2);
  });
});

describe('runs a robust strategy refuses', () => {
  it('Krum with n ≤ 2f + 2, a trimmed mean with β ≥ 0.5, and any robust rule with secure aggregation', () => {
    expect(thrownCode(() => buildRunConfig({ strategy: 'multi-krum', byzantine: 1, minSites: 4 }))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => buildRunConfig({ strategy: 'multi-krum', byzantine: 1, minSites: 5 }))).toBe('no error');
    expect(thrownCode(() => buildRunConfig({ strategy: 'trimmed-mean', trimBeta: 0.5 }))).toBe('E_BAD_REQUEST');
    for (const strategy of ['median', 'trimmed-mean', 'multi-krum', 'centered-clipping'] as const) {
      expect(thrownCode(() => buildRunConfig({ strategy, minSites: 5, secureAggregation: true })), strategy).toBe('E_SECAGG_PARAMS');
    }
    expect(thrownCode(() => buildRunConfig({ strategy: 'fedadam', secureAggregation: { threshold: 3 } }))).toBe('no error');
  });
});
