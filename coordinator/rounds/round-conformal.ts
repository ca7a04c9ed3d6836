// A round's calibrated prediction intervals: the sites' calibration sketches of the new model
// merged into its conformal quantile, recorded in its ledger entry and shown in its metrics.

import { DEFAULT_COVERAGE } from '../../shared/conformal/coverage.js';
import { federatedQuantile, type ConformalRecord } from '../../shared/conformal/federated-quantile.js';
import { isRegression, type Study } from '../../shared/study.js';
import type { EvalReport } from '../phases/evaluation-phase.js';

/** The model's quantile at the run's coverage; undefined when no site sent a sketch. */
export function roundConformal(study: Study, coverage: number | undefined, evals: ReadonlyMap<string, EvalReport>): ConformalRecord | undefined {
  const sketches = [...evals.values()].flatMap((e) => (e.calibration === undefined ? [] : [{ rows: e.calibration.numExamples, counts: e.calibration.counts, ...(e.calibration.sites === undefined ? {} : { sites: e.calibration.sites }) }]));
  if (sketches.length === 0) return undefined;
  return federatedQuantile(isRegression(study) ? 'interval' : 'set', coverage ?? DEFAULT_COVERAGE, sketches);
}

/** The same in a round's metrics (numbers only: an unbounded quantile is left out). */
export function conformalMetrics(record: ConformalRecord | undefined): Record<string, number> {
  if (record === undefined) return {};
  return {
    coverage: record.coverage,
    calibrationRows: record.calibrationRows,
    ...(record.quantile === null ? {} : { conformalQuantile: record.quantile }),
  };
}
