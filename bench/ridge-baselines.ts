// In-process ridge fits for the genomics benchmark's baselines, on encoded rows: the same
// objective and penalty search as the federated exact fit, with the rows in one place.

import { foldRows } from '../shared/exact/folds.js';
import { augmentedRows } from '../shared/exact/gram-factor.js';
import type { L2Spec } from '../shared/exact/penalty.js';
import type { RidgeFit } from '../shared/exact/ridge-path.js';
import { exactRidge, type PenaltySelection } from '../shared/exact/ridge-select.js';
import { DEFAULT_FOLDS } from '../coordinator/strategies/exact.js';
import type { DataPart } from '../site-agent/local-data.js';

/** Rows of several parts as one part. */
export function poolParts(parts: readonly DataPart[], width: number): DataPart {
  const n = parts.reduce((s, p) => s + p.n, 0);
  const x = new Float32Array(n * width);
  const y = new Float32Array(n);
  const actual = new Float64Array(n);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at * width);
    y.set(p.y, at);
    actual.set(p.actual, at);
    at += p.n;
  }
  return { x, y, actual, n };
}

/** Ridge on `part` with λ from `l2` chosen by k-fold cross-validation over its rows (seeded). */
export function ridgeInProcess(part: DataPart, width: number, l2: L2Spec, seed: string): Promise<{ fit: RidgeFit; selection: PenaltySelection | null }> {
  const k = typeof l2 === 'number' ? 1 : DEFAULT_FOLDS;
  const groups = k === 1 ? [Array.from({ length: part.n }, (_, i) => i)] : foldRows(part.n, k, seed, 'pooled');
  return exactRidge([{ siteId: 'pooled', folds: groups.map((rows) => augmentedRows(part.x, part.y, width, rows)) }], width, l2);
}

/** Model-space predictions x·w + b for every row of `part`. */
export function predictPart(part: DataPart, width: number, w: ArrayLike<number>, b: number): Float64Array {
  const out = new Float64Array(part.n);
  for (let r = 0; r < part.n; r++) {
    let s = b;
    for (let j = 0; j < width; j++) s += part.x[r * width + j]! * w[j]!;
    out[r] = s;
  }
  return out;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

export function rmse(pred: ArrayLike<number>, actual: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i]! - actual[i]!) ** 2;
  return Math.sqrt(s / pred.length);
}
