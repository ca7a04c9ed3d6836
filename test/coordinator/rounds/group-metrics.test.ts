import { describe, expect, it } from 'vitest';
import { groupMetrics, groupsFromMetrics } from '../../../coordinator/rounds/group-metrics.js';
import type { EvalReport } from '../../../coordinator/phases/evaluation-phase.js';
import type { Study } from '../../../shared/study.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

const study: Study = { ...TINY_STUDY, metrics: ['mae', 'rmse'], groupBy: 'g' };
const sums = (n: number, absErr: number, sqErr: number) => ({ n, absErr, within20: 0, sqErr, sumY: 0, sumY2: 0 });
const report = (groups: EvalReport['groups']): EvalReport => ({ numExamples: 0, loss: 0, sums: sums(0, 0, 0), groups });

describe('groupMetrics', () => {
  it('pools each level\'s sums over the sites, exactly as if pooled; a level no site has is left out', () => {
    const evals = new Map([
      ['site-a', report([{ level: 'a', sums: sums(2, 4, 10) }, { level: 'b', sums: sums(1, 3, 9) }])],
      ['site-b', report([{ level: 'a', sums: sums(2, 2, 6) }])],
      ['site-c', report(undefined)], // an agent that sends no groups counts for none
    ]);
    // a: n 4, MAE 6/4 = 1.5, RMSE √(16/4) = 2; b: n 1, MAE 3, RMSE 3.
    const m = groupMetrics(study, evals);
    expect(m).toEqual({ 'group.a.n': 4, 'group.a.mae': 1.5, 'group.a.rmse': 2, 'group.b.n': 1, 'group.b.mae': 3, 'group.b.rmse': 3 });
    expect(groupsFromMetrics({ ...m, mae: 9 })).toEqual(new Map([['a', { n: 4, mae: 1.5, rmse: 2 }], ['b', { n: 1, mae: 3, rmse: 3 }]]));
    expect(groupMetrics(TINY_STUDY, evals)).toEqual({});
  });

  it('reads a level with dots in its name back whole', () => {
    expect(groupsFromMetrics({ 'group.v1.2.n': 3, 'group.v1.2.mae': 1 })).toEqual(new Map([['v1.2', { n: 3, mae: 1 }]]));
  });
});
