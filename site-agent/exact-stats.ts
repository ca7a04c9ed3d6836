// What a site sends for an exact ridge fit: per validation fold, the factored sufficient
// statistics of its training rows (shared/exact/gram-factor.ts). Pure over the encoded rows, so
// it can run wherever the site's CPU work runs.

import { foldRows } from '../shared/exact/folds.js';
import { augmentedRows, gramFactor, type NormalSource } from '../shared/exact/gram-factor.js';
import type { Seed } from '../shared/prng.js';
import type { NamedTensor64 } from '../shared/tensors.js';
import type { DataPart } from './local-data.js';

export interface ExactStatistics {
  tensors: NamedTensor64[];
  /** Training rows in each fold. */
  foldRows: number[];
}

export function exactStatistics(train: DataPart, width: number, folds: number, seed: Seed, siteId: string, normal: NormalSource): ExactStatistics {
  const all = Array.from({ length: train.n }, (_, i) => i);
  const groups = folds === 1 ? [all] : foldRows(train.n, folds, seed, siteId);
  const tensors = groups.map((rows, f): NamedTensor64 => {
    const { factor, rows: m } = gramFactor(augmentedRows(train.x, train.y, width, rows), rows.length, width + 2, normal);
    return { name: `fold${f}`, shape: [m, width + 2], data: factor };
  });
  return { tensors, foldRows: groups.map((g) => g.length) };
}
