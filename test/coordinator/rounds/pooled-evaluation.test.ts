// A region's evaluations pooled as one site holding all their rows: hand-worked sums, and the
// figures a parent computes from the pooled answer equal those it computes from the sites apart.

import { describe, expect, it } from 'vitest';
import type { EvalReport } from '../../../coordinator/phases/evaluation-phase.js';
import { pooledEvaluation } from '../../../coordinator/rounds/pooled-evaluation.js';
import { roundMetrics } from '../../../coordinator/rounds/round-metrics.js';
import { roundConformal } from '../../../coordinator/rounds/round-conformal.js';
import { AUC_BINS } from '../../../shared/auc.js';
import { sketchLength } from '../../../shared/conformal/score-sketch.js';
import { layoutOf } from '../../../shared/conformal/federated-quantile.js';
import type { Study } from '../../../shared/study.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

const STUDY: Study = { ...TINY_STUDY, groupBy: 'g' };

const A: EvalReport = {
  numExamples: 2,
  loss: 1,
  sums: { n: 2, absErr: 4, within20: 1, sqErr: 10, sumY: 6, sumY2: 20 },
  groups: [{ level: 'a', sums: { n: 2, absErr: 4, within20: 1, sqErr: 10, sumY: 6, sumY2: 20 } }],
  validation: { numExamples: 1, loss: 2, sums: { n: 1, absErr: 1, within20: 0, sqErr: 1, sumY: 3, sumY2: 9 } },
  calibration: { numExamples: 1, counts: [1, 0, 0] },
};
const B: EvalReport = {
  numExamples: 3,
  loss: 2,
  sums: { n: 3, absErr: 3, within20: 2, sqErr: 5, sumY: 9, sumY2: 30 },
  groups: [
    { level: 'a', sums: { n: 1, absErr: 1, within20: 1, sqErr: 1, sumY: 3, sumY2: 9 } },
    { level: 'b', sums: { n: 2, absErr: 2, within20: 1, sqErr: 4, sumY: 6, sumY2: 21 } },
  ],
  validation: undefined,
  calibration: { numExamples: 2, counts: [0, 1, 1] },
};

describe('pooled evaluation', () => {
  it('adds rows, sums, levels and calibration counts, and weights losses by rows (hand-worked)', () => {
    expect(pooledEvaluation(STUDY, [A, B])).toEqual({
      numExamples: 5,
      loss: (2 * 1 + 3 * 2) / 5,
      sums: { n: 5, absErr: 7, within20: 3, sqErr: 15, sumY: 15, sumY2: 50 },
      validation: { numExamples: 1, loss: 2, sums: { n: 1, absErr: 1, within20: 0, sqErr: 1, sumY: 3, sumY2: 9 } },
      groups: [
        { level: 'a', sums: { n: 3, absErr: 5, within20: 2, sqErr: 11, sumY: 9, sumY2: 29 } },
        { level: 'b', sums: { n: 2, absErr: 2, within20: 1, sqErr: 4, sumY: 6, sumY2: 21 } },
      ],
      calibration: { numExamples: 3, counts: [1, 1, 1], sites: 2 },
      sites: 2,
    });
    // Per-level sums must add up to the rows: left out when a site sent none.
    expect(pooledEvaluation(STUDY, [A, { ...B, groups: undefined }]).groups).toBeUndefined();
    expect(pooledEvaluation(STUDY, [])).toEqual({ numExamples: 0, loss: 0, sums: { n: 0, absErr: 0, within20: 0, sqErr: 0, sumY: 0, sumY2: 0 }, sites: 0 });
  });

  it("gives the parent the same round figures as the region's sites apart", () => {
    const apart = roundMetrics(STUDY, [], new Map([['a', A], ['b', B]]));
    const { sites: _sites, ...pooled } = pooledEvaluation(STUDY, [A, B]);
    const together = roundMetrics(STUDY, [], new Map([['region', pooled]]));
    expect({ ...together, evalSites: 2 }).toEqual(apart);
    expect(apart).toMatchObject({ evalExamples: 5, evalLoss: 1.6, mae: 7 / 5, 'group.a.n': 3, valLoss: 2 });
  });

  it('pools AUC counts only when every site with rows sent counts that fit', () => {
    const study: Study = { ...TINY_STUDY, task: 'classification', target: { name: 'y', classes: ['no', 'yes'] }, metrics: ['auc', 'accuracy'] };
    const one = (bin: number): number[][] => [Array.from({ length: AUC_BINS }, (_, i) => (i === bin ? 1 : 0))];
    const none = (): number[][] => [new Array<number>(AUC_BINS).fill(0)];
    const a = { n: 2, correct: 1, auc: { pos: one(900), neg: one(100) } };
    const b = { n: 1, correct: 1, auc: { pos: one(500), neg: none() } };
    const report = (sums: EvalReport['sums']): EvalReport => ({ numExamples: sums.n, loss: 0.5, sums, groups: undefined, validation: undefined, calibration: undefined });
    const pooled = pooledEvaluation(study, [report(a), report(b)]).sums as { n: number; correct: number; auc?: { pos: number[][]; neg: number[][] } };
    expect({ n: pooled.n, correct: pooled.correct }).toEqual({ n: 3, correct: 2 });
    expect(pooled.auc!.pos[0]![900]! + pooled.auc!.pos[0]![500]!).toBe(2);
    expect(pooled.auc!.neg[0]!.reduce((s, c) => s + c, 0)).toBe(1);
    // A site with rows but no counts: no pooled AUC (an AUC over some sites would pass for one over all).
    expect(pooledEvaluation(study, [report(a), report({ n: 1, correct: 0 })]).sums).toEqual({ n: 3, correct: 1 });
    // A site without rows counts for nothing.
    expect('auc' in pooledEvaluation(study, [report(a), report({ n: 0, correct: 0 })]).sums).toBe(true);
  });

  it("pools calibration sketches into the parent's quantile over the same rows", () => {
    const length = sketchLength(layoutOf('interval'));
    const sketch = (bins: Record<number, number>): number[] => Array.from({ length }, (_, i) => bins[i] ?? 0);
    const site = (counts: number[]): EvalReport => ({ ...A, validation: undefined, groups: undefined, calibration: { numExamples: counts.reduce((s, c) => s + c, 0), counts } });
    const sites = [site(sketch({ 10: 40, 20: 20 })), site(sketch({ 15: 30, 30: 10 }))];
    const pooled = pooledEvaluation(TINY_STUDY, sites);
    const apart = roundConformal(TINY_STUDY, 0.9, new Map(sites.map((s, i) => [String(i), s])))!;
    const together = roundConformal(TINY_STUDY, 0.9, new Map([['region', pooled]]))!;
    expect(together.calibrationRows).toBe(apart.calibrationRows);
    // The rank ⌈(N + K)(1 − α)⌉ counts sites: the pooled sketch says it holds two, so the quantile is the same.
    expect(pooled.calibration?.sites).toBe(2);
    expect(together).toEqual(apart);
    // Counted as one site, the region would move the rank: the count is what keeps the levels exact.
    const asOne = roundConformal(TINY_STUDY, 0.9, new Map([['region', { ...pooled, calibration: { numExamples: pooled.calibration!.numExamples, counts: pooled.calibration!.counts } }]]))!;
    expect(asOne.sites).toBe(1);
  });
});
