// Which of a site's rows are held out for evaluation: a seeded shuffle of the site's usable rows.
// Shared so a site agent and a benchmark harness that scores the same patients agree exactly.

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
