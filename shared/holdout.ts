// Which of a site's rows are held out for evaluation, and which of the rest validate: seeded
// shuffles of the site's usable rows. Shared so a site agent and a benchmark harness that scores
// the same patients agree exactly.

import { deriveSeed, Prng, type Seed } from './prng.js';

export function holdoutOrder(n: number, seed: Seed, siteId: string): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return new Prng(deriveSeed('holdout', seed, siteId)).shuffle(order);
}

/** Number of held-out rows: the fraction of n, at least 1, leaving at least 1 to train on. */
export function holdoutSize(n: number, fraction: number): number {
  return Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
}

/** Row indices of the held-out part and of the training part. */
export function holdoutSplit(n: number, fraction: number, seed: Seed, siteId: string): { test: number[]; train: number[] } {
  const order = holdoutOrder(n, seed, siteId);
  const k = holdoutSize(n, fraction);
  return { test: order.slice(0, k), train: order.slice(k) };
}

export interface SiteSplit {
  /** Held out: scored every round, never trained on nor used to choose anything. */
  test: number[];
  /** A share of the training part that chooses the run's best round (empty without one). */
  validation: number[];
  /** The rows the model trains on and the statistics describe. */
  train: number[];
}

/**
 * The held-out part as holdoutSplit makes it (unchanged by validation), then a seeded share of the
 * training part, under its own label, for validation.
 */
export function siteSplit(n: number, holdout: { fraction: number; seed: Seed }, validationFraction: number | undefined, siteId: string): SiteSplit {
  const { test, train } = holdoutSplit(n, holdout.fraction, holdout.seed, siteId);
  if (validationFraction === undefined || train.length < 2) return { test, validation: [], train };
  const order = new Prng(deriveSeed('validation', holdout.seed, siteId)).shuffle([...train]);
  const k = holdoutSize(train.length, validationFraction);
  return { test, validation: order.slice(0, k), train: order.slice(k) };
}

/** Share of the training part that calibrates prediction intervals when a study has no validation part. */
export const DEFAULT_CALIBRATION_FRACTION = 0.1;

/**
 * The calibration part of a study without a validation part: a seeded share of the training part,
 * under its own label, taken only when at least `minTrain` rows remain to train on (a small site
 * calibrates nothing rather than refusing to train). With a validation part, that part calibrates
 * and no training row is spent.
 */
export function calibrationSplit(train: readonly number[], fraction: number, seed: Seed, siteId: string, minTrain: number): { calibration: number[]; train: number[] } {
  const k = train.length < 2 ? 0 : holdoutSize(train.length, fraction);
  if (k === 0 || train.length - k < minTrain) return { calibration: [], train: [...train] };
  const calibration = new Prng(deriveSeed('calibration', seed, siteId)).shuffle([...train]).slice(0, k);
  const chosen = new Set(calibration);
  return { calibration, train: train.filter((i) => !chosen.has(i)) };
}
