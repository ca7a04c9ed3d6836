import { describe, expect, it } from 'vitest';
import { createStrategy } from '../../../coordinator/strategies/registry.js';
import type { SummedUpdate } from '../../../coordinator/strategies/types.js';
import { ctx, update, values } from './fixtures.js';

// A (n=1, [1,2,3],[10]) and B (n=3, [5,6,7],[20]) summed: Σ n·x = [16,20,24],[70], Σ n = 4.
const AB = (): SummedUpdate => ({ sums: [new Float64Array([16, 20, 24]), new Float64Array([70])], totalWeight: 4, contributors: ['A', 'B'] });

describe('acceptSum: a summed contribution folds like its updates one by one', () => {
  it('fedavg: the sum of A and B gives the same mean as A and B apart, and C folds after it', () => {
    const agg = createStrategy('fedavg', {}).beginRound(ctx());
    expect(agg.acceptSum?.(AB())).toEqual({ accepted: true });
    expect(agg.accepted).toBe(2);
    expect(values(agg.finalize())).toEqual([[4, 5, 6], [17.5]]);
    // C (n=4, [-4,0,2],[0]) after the sum: (16-16)/8, 20/8, (24+8)/8, 70/8.
    const more = createStrategy('fedavg', {}).beginRound(ctx());
    more.acceptSum?.(AB());
    expect(more.accept(update('C', 4, [-4, 0, 2], [0]))).toEqual({ accepted: true });
    expect(values(more.finalize())).toEqual([[0, 2.5, 4], [8.75]]);
  });

  it('fedadam takes its server step from a sum exactly as from the updates', () => {
    const opts = { serverLr: 0.1 };
    const apart = createStrategy('fedadam', opts).beginRound(ctx());
    apart.accept(update('A', 1, [1, 2, 3], [10]));
    apart.accept(update('B', 3, [5, 6, 7], [20]));
    const summed = createStrategy('fedadam', opts).beginRound(ctx());
    expect(summed.acceptSum?.(AB())).toEqual({ accepted: true });
    expect(values(summed.finalize())).toEqual(values(apart.finalize()));
    expect(summed.acceptSum?.(AB())).toMatchObject({ accepted: false, code: 'E_STALE_ROUND' });
  });

  it('refuses a stranger, a site counted twice, a zero weight, a wrong size or a non-finite sum, and keeps the sum it had', () => {
    const agg = createStrategy('fedavg', {}).beginRound(ctx());
    agg.accept(update('A', 1, [1, 2, 3], [10]));
    const bad: [Partial<SummedUpdate>, string][] = [
      [{ contributors: ['B', 'Z'] }, 'E_NOT_SELECTED'],
      [{ contributors: ['A', 'B'] }, 'E_DUPLICATE_UPDATE'],
      [{ contributors: ['B', 'B'] }, 'E_DUPLICATE_UPDATE'],
      [{ totalWeight: 0 }, 'E_BAD_EXAMPLES'],
      [{ totalWeight: Number.NaN }, 'E_BAD_EXAMPLES'],
      [{ sums: [new Float64Array(2), new Float64Array(1)] }, 'E_SHAPE_MISMATCH'],
      [{ sums: [new Float64Array(3)] }, 'E_SHAPE_MISMATCH'],
      [{ sums: [new Float64Array([1, Number.POSITIVE_INFINITY, 0]), new Float64Array(1)] }, 'E_NON_FINITE'],
    ];
    for (const [change, code] of bad) {
      expect(agg.acceptSum?.({ ...AB(), contributors: ['B'], totalWeight: 3, ...change })).toMatchObject({ accepted: false, code });
    }
    expect(agg.accepted).toBe(1);
    expect(values(agg.finalize())).toEqual([[1, 2, 3], [10]]);
  });
});
