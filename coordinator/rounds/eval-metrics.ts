// Global evaluation metrics from the sums the sites report on their held-out rows. Sums add up
// exactly, so the result equals the metric over the pooled held-out patients (AUC: to the
// precision of its probability bins, shared/auc.ts).

import { aucCountsFit, aucFromCounts, emptyAucCounts, mergeAucCounts, type AucCounts } from '../../shared/auc.js';
import { emptySums, mergeSums, metricsFromSums, type RegressionSums } from '../../shared/metrics.js';
import { isRegression, studyMetrics, type ClassificationTarget, type Study } from '../../shared/study.js';
import type { EvalSums } from '../../shared/wire.js';

export function evalMetrics(study: Study, sums: readonly EvalSums[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (isRegression(study)) {
    const total = sums.reduce<RegressionSums>((a, s) => ('absErr' in s ? mergeSums(a, s) : a), emptySums());
    const m = metricsFromSums(total);
    for (const name of studyMetrics(study)) {
      const v = m[name as keyof typeof m];
      if (typeof v === 'number' && Number.isFinite(v)) out[name] = v;
    }
    return out;
  }
  let n = 0;
  let correct = 0;
  for (const s of sums) {
    if ('correct' in s) {
      n += s.n;
      correct += s.correct;
    }
  }
  if (n > 0) out.accuracy = correct / n;
  if (studyMetrics(study).includes('auc')) {
    const auc = pooledAuc(study, sums);
    if (Number.isFinite(auc)) out.auc = auc;
  }
  return out;
}

/**
 * AUC of the pooled held-out rows, or NaN unless every site sent counts of the right shape:
 * an AUC over some of the sites would pass for one over all of them.
 */
function pooledAuc(study: Study, sums: readonly EvalSums[]): number {
  const classes = (study.target as ClassificationTarget).classes.length;
  let total: AucCounts = emptyAucCounts(classes);
  for (const s of sums) {
    if (!('correct' in s) || s.n === 0) continue;
    if (s.auc === undefined || !aucCountsFit(s.auc, classes)) return Number.NaN;
    total = mergeAucCounts(total, s.auc);
  }
  return aucFromCounts(total);
}

/** The study's first metric, e.g. MAE for warfarin dose. */
export function headlineMetric(study: Study, sums: readonly EvalSums[]): number | undefined {
  return evalMetrics(study, sums)[studyMetrics(study)[0]!];
}
