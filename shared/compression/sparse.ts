// A sparse vector on the wire: one uint32 vector of 2k words, the k indices (strictly increasing)
// then the k values' float32 bits. Reading it back is attacker-controlled: the count, every index
// (below the model's parameter count, strictly increasing) and every value (finite) are checked
// before the dense vector is allocated, and then only at the size of the coordinator's own model.

import { FedrxError } from '../errors.js';
import type { SparseVector } from './top-k.js';

export function packSparse(v: SparseVector): Uint32Array {
  const k = v.indices.length;
  if (v.values.length !== k) throw new FedrxError('E_INTERNAL', `${k} indices for ${v.values.length} values`);
  const words = new Uint32Array(2 * k);
  words.set(v.indices, 0);
  new Float32Array(words.buffer, 4 * k, k).set(v.values);
  return words;
}

/** Attacker-controlled `words`: the sparse vector they hold, checked against n parameters and at most maxK entries. */
export function unpackSparse(words: Uint32Array, n: number, maxK: number): SparseVector {
  if (words.length % 2 !== 0) throw new FedrxError('E_COMPRESSED_UPDATE', `a sparse update has an odd number of words (${words.length})`);
  const k = words.length / 2;
  if (k > maxK) throw new FedrxError('E_COMPRESSED_UPDATE', `a sparse update carries ${k} entries, the run allows ${maxK}`);
  // Views: a Uint32Array is 4-byte aligned, so the values' half is too.
  const indices = words.subarray(0, k);
  const values = new Float32Array(words.buffer, words.byteOffset + 4 * k, k);
  for (let j = 0; j < k; j++) {
    const i = indices[j]!;
    if (i >= n) throw new FedrxError('E_COMPRESSED_UPDATE', `sparse entry ${j}: index ${i} is beyond the model's ${n} parameters`);
    if (j > 0 && i <= indices[j - 1]!) throw new FedrxError('E_COMPRESSED_UPDATE', `sparse entry ${j}: index ${i} does not follow ${indices[j - 1]!} (indices must be strictly increasing)`);
    if (!Number.isFinite(values[j]!)) throw new FedrxError('E_NON_FINITE', `sparse entry ${j} (index ${i}) is not finite`);
  }
  return { indices, values };
}

/** The dense vector of n values the sparse one stands for: zero where it has no entry. */
export function scatter(v: SparseVector, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let j = 0; j < v.indices.length; j++) out[v.indices[j]!] = v.values[j]!;
  return out;
}
