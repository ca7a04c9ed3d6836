// An exact fit as a model and as ledger metrics. The penalty search goes into the entry's
// metrics (inside its hash): the choice `l2`, the folds, and per candidate i (two digits, so the
// keys sort in grid order) `l2Grid.i` and its validation loss `l2CvLoss.i`.

import type { PenaltySelection } from '../../../shared/exact/ridge-select.js';
import type { RidgeFit } from '../../../shared/exact/ridge-path.js';
import type { Weights } from '../../../shared/tensors.js';

/** The linear model's tensors (dense0/kernel [d,1], dense0/bias [1]) from a fit. */
export function ridgeWeights(fit: RidgeFit): Weights {
  return [
    { name: 'dense0/kernel', shape: [fit.w.length, 1], data: Float32Array.from(fit.w) },
    { name: 'dense0/bias', shape: [1], data: Float32Array.of(fit.b) },
  ];
}

export function penaltyMetrics(fit: RidgeFit, selection: PenaltySelection | null): Record<string, number> {
  const m: Record<string, number> = { l2: fit.lambda, l2Folds: selection?.folds ?? 1 };
  selection?.grid.forEach((lambda, i) => {
    const key = String(i).padStart(2, '0');
    m[`l2Grid.${key}`] = lambda;
    m[`l2CvLoss.${key}`] = selection.scores[i]!;
  });
  return m;
}

export interface PenaltyRecord {
  l2: number;
  folds: number;
  grid: number[];
  cvLoss: number[];
}

/** Reads the search back from an entry's metrics (null for entries of iterative runs). */
export function penaltyFromMetrics(metrics: Record<string, number>): PenaltyRecord | null {
  if (metrics.l2 === undefined) return null;
  const keys = Object.keys(metrics).filter((k) => k.startsWith('l2Grid.')).sort();
  return {
    l2: metrics.l2,
    folds: metrics.l2Folds ?? 1,
    grid: keys.map((k) => metrics[k]!),
    cvLoss: keys.map((k) => metrics[`l2CvLoss.${k.slice('l2Grid.'.length)}`]!),
  };
}
