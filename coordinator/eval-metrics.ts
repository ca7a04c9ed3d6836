// Global evaluation metrics from the sums the sites report on their held-out rows. Sums add up
// exactly, so the result equals the metric over the pooled held-out patients.

import { emptySums, mergeSums, metricsFromSums, type RegressionSums } from '../shared/metrics.js';
import { isRegression, studyMetrics, type Study } from '../shared/study.js';
import type { EvalSums } from '../shared/wire.js';

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
  return out;
}

/** The study's first metric, e.g. MAE for warfarin dose. */
export function headlineMetric(study: Study, sums: readonly EvalSums[]): number | undefined {
  return evalMetrics(study, sums)[studyMetrics(study)[0]!];
}
