// Which validation fold each of a site's training rows belongs to: a seeded shuffle dealt out
// round-robin, so folds differ in size by at most one row and a run replays identically.

import { deriveSeed, Prng, type Seed } from '../prng.js';

export function foldRows(n: number, k: number, seed: Seed, siteId: string): number[][] {
  const order = new Prng(deriveSeed('folds', seed, siteId)).shuffle(Array.from({ length: n }, (_, i) => i));
  const folds: number[][] = Array.from({ length: k }, () => []);
  order.forEach((row, i) => folds[i % k]!.push(row));
  return folds;
}
