// The coverage a run promises (1 − α) and the order statistic split conformal prediction takes
// for it when N calibration scores come from K sites (Lu et al. 2023, arXiv 2305.17564).

import { FedrxError } from '../errors.js';

export const DEFAULT_COVERAGE = 0.9;

/** 0 < coverage < 1, else E_BAD_COVERAGE: 0 promises nothing, 1 an unbounded interval. */
export function checkCoverage(coverage: number): number {
  if (typeof coverage !== 'number' || !Number.isFinite(coverage) || coverage <= 0 || coverage >= 1) {
    throw new FedrxError('E_BAD_COVERAGE', `coverage must be a number with 0 < coverage < 1, got ${String(coverage)}`);
  }
  return coverage;
}

/**
 * The rank (1-based) of the calibration score that bounds the interval: ⌈(N + K)·(1 − α)⌉, i.e. the
 * quantile at level ⌈(N + K)(1 − α)⌉ / N of the N pooled scores. A rank above N means the
 * calibration rows are too few for the coverage: the interval is unbounded.
 * The product is nudged down by a relative 1e-12 so that e.g. 110 × 0.9 = 99.00000000000001 gives 99.
 */
export function conformalRank(calibrationRows: number, sites: number, coverage: number): number {
  checkCoverage(coverage);
  if (!Number.isInteger(calibrationRows) || calibrationRows < 0 || !Number.isInteger(sites) || sites < 0) {
    throw new RangeError(`calibration rows and sites must be integers ≥ 0, got ${calibrationRows} and ${sites}`);
  }
  return Math.max(1, Math.ceil((calibrationRows + sites) * coverage * (1 - 1e-12)));
}
