import { describe, expect, it } from 'vitest';
import { evalMetrics, headlineMetric } from '../../../coordinator/rounds/eval-metrics.js';
import { emptyAucCounts } from '../../../shared/auc.js';
import type { Study } from '../../../shared/study.js';
import { binaryCounts } from '../../helpers/auc-counts.js';

const study: Study = {
  name: 'binary',
  task: 'classification',
  features: [{ kind: 'numeric', name: 'x', min: 0, max: 1 }],
  target: { name: 'label', classes: ['no', 'yes'] },
  model: { type: 'linear' },
  metrics: ['auc', 'accuracy'],
  holdout: { fraction: 0.2, seed: 1 },
};

const counts = binaryCounts;

describe('federated classification metrics', () => {
  it('AUC of the pooled held-out rows from two sites’ counts, beside accuracy', () => {
    // Site A: positive 0.9, negatives 0.2 and 0.6; site B: positive 0.55, negative 0.05.
    // Pooled pairs: 0.9 beats all three negatives, 0.55 beats 0.2 and 0.05 but not 0.6 → 5/6.
    const a = { n: 3, correct: 2, auc: counts([[0.9, 1], [0.2, 0], [0.6, 0]]) };
    const b = { n: 2, correct: 2, auc: counts([[0.55, 1], [0.05, 0]]) };
    expect(evalMetrics(study, [a, b])).toEqual({ accuracy: 4 / 5, auc: expect.closeTo(5 / 6, 12) });
    expect(headlineMetric(study, [a, b])).toBeCloseTo(5 / 6, 12);
  });

  it('reports no AUC when a site sent none or counts of the wrong shape, nor when the study does not ask', () => {
    const a = { n: 3, correct: 2, auc: counts([[0.9, 1], [0.2, 0], [0.6, 0]]) };
    expect(evalMetrics(study, [a, { n: 2, correct: 1 }])).toEqual({ accuracy: 3 / 5 });
    expect(evalMetrics(study, [a, { n: 2, correct: 1, auc: emptyAucCounts(3) }])).toEqual({ accuracy: 3 / 5 });
    expect(evalMetrics({ ...study, metrics: ['accuracy'] }, [a])).toEqual({ accuracy: 2 / 3 });
  });
});
