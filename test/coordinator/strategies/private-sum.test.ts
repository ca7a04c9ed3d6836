import { describe, expect, it } from 'vitest';
import { PrivateSumAggregator } from '../../../coordinator/strategies/private-sum.js';
import { createStrategy } from '../../../coordinator/strategies/registry.js';
import type { Aggregator } from '../../../coordinator/strategies/types.js';
import { ctx, update, values } from './fixtures.js';

const wrap = (noiseStd: number, draws: number[] = []): PrivateSumAggregator => {
  let k = 0;
  return new PrivateSumAggregator(ctx(), createStrategy('fedavg', {}).beginRound(ctx()), { clip: 5, noiseStd }, () => draws[k++] ?? 0);
};

describe('PrivateSumAggregator (DP-FedAvg at the coordinator)', () => {
  it('averages the changes with weight 1 per site, whatever its example count', () => {
    // A: Δ = (3, 0, 0 | 4), ‖Δ‖ = 5 = C; B (100 rows): Δ = (0, 1, 0 | 0). Mean: (1.5, 0.5, 0 | 2)
    const agg = wrap(0);
    expect(agg.accept(update('A', 1, [3, 0, 0], [4]))).toEqual({ accepted: true });
    expect(agg.accept(update('B', 100, [0, 1, 0], [0]))).toEqual({ accepted: true });
    expect(agg.accepted).toBe(2);
    const r = agg.finalize();
    expect(values(r)).toEqual([[1.5, 0.5, 0], [2]]);
    expect(r?.totalExamples).toBe(2);
  });

  it('adds noiseStd·z to each coordinate of the sum: the mean moves by noiseStd·z/m', () => {
    const agg = wrap(2, [1, -1, 0.5, 2]);
    agg.accept(update('A', 1, [3, 0, 0], [4]));
    agg.accept(update('B', 1, [0, 1, 0], [0]));
    // sum (3, 1, 0 | 4) + 2·(1, −1, 0.5 | 2) = (5, −1, 1 | 8); / 2
    expect(values(agg.finalize())).toEqual([[2.5, -0.5, 0.5], [4]]);
  });

  it('refuses a change over the clip with E_CLIP_EXCEEDED, and the sum stays as it was', () => {
    const agg = wrap(0);
    agg.accept(update('A', 1, [1, 0, 0], [0]));
    const v = agg.accept(update('B', 1, [3, 0, 0], [4.01]));
    expect(v).toMatchObject({ accepted: false, code: 'E_CLIP_EXCEEDED' });
    expect(agg.accepted).toBe(1);
    expect(values(agg.finalize())).toEqual([[1, 0, 0], [0]]);
  });

  it('refuses what every update is refused for (not selected, non-finite) before folding', () => {
    const agg = wrap(0);
    expect(agg.accept(update('Z', 1, [0, 0, 0], [0]))).toMatchObject({ code: 'E_NOT_SELECTED' });
    expect(agg.accept(update('A', 1, [NaN, 0, 0], [0]))).toMatchObject({ code: 'E_NON_FINITE' });
    expect(agg.finalize()).toBeNull();
  });

  it('works over FedAdam too (its server step over the noisy mean)', () => {
    const inner = createStrategy('fedadam', { serverLr: 0.1 }).beginRound(ctx());
    const agg = new PrivateSumAggregator(ctx(), inner, { clip: 5, noiseStd: 0 }, () => 0);
    agg.accept(update('A', 1, [3, 0, 0], [4]));
    const r = agg.finalize();
    // Adam's first step moves each coordinate with a non-zero change by about ±lr
    expect(values(r)[0]![0]).toBeGreaterThan(0);
    expect(values(r)[0]![1]).toBe(0);
  });

  it('refuses a strategy that cannot fold a sum', () => {
    const bare: Aggregator = { accept: () => ({ accepted: true }), accepted: 0, finalize: () => null };
    expect(() => new PrivateSumAggregator(ctx(), bare, { clip: 1, noiseStd: 0 }, () => 0)).toThrow(/private sum/);
  });
});
