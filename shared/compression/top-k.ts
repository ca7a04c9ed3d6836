// Top-k sparsification: of a vector, keep the k entries of largest magnitude. Deterministic: among
// equal magnitudes the lower index wins, so a site's answer replays bit for bit. The kept entries
// come out in increasing index order, the order the wire requires (sparse.ts).

import { FedrxError } from '../errors.js';

/** k for a fraction of n parameters: ⌈f·n⌉, at least 1 (f·n rounded first, so 0.07·100 is 7, not 8). */
export function topkCount(fraction: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(Number((fraction * n).toPrecision(12)))));
}

export interface SparseVector {
  /** Strictly increasing. */
  indices: Uint32Array;
  values: Float32Array;
}

/** The k entries of largest |value| (ties: lowest index first), in index order. */
export function topK(values: Float32Array, k: number): SparseVector {
  const n = values.length;
  if (!Number.isSafeInteger(k) || k < 0 || k > n) throw new FedrxError('E_INTERNAL', `top-k of ${n} values asked for k = ${k}`);
  const indices = new Uint32Array(k);
  const kept = new Float32Array(k);
  if (k === 0) return { indices, values: kept };
  const mags = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new FedrxError('E_NON_FINITE', `value ${i} is not finite`);
    mags[i] = Math.abs(v);
  }
  mags.sort();
  // The k-th largest magnitude: everything above it is kept, then its ties by index until k.
  const threshold = mags[n - k]!;
  let above = 0;
  for (let i = n - k + 1; i < n; i++) if (mags[i]! > threshold) above++;
  let ties = k - above;
  let at = 0;
  for (let i = 0; i < n && at < k; i++) {
    const m = Math.abs(values[i]!);
    if (m > threshold || (m === threshold && ties-- > 0)) {
      indices[at] = i;
      kept[at++] = values[i]!;
    }
  }
  return { indices, values: kept };
}
