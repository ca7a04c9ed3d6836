// Canonical SHA-256 of a set of weights: the identity of a model (or of one site's update).
// Covers names, shapes, dtype and the raw little-endian float32 bytes, in order, with a domain
// tag so a model hash can never collide with a ledger entry hash. Bulk bytes go through
// node:crypto (~1.6 GB/s here); the digest is plain SHA-256, so any implementation can check it.

import { createHash } from 'node:crypto';
import type { NamedTensor64, Weights } from './tensors.js';

const DOMAIN = 'fedrx/model/v1\0';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u32(b.length), b]);
}

export function hashWeights(weights: Weights): string {
  return hashTensors(DOMAIN, 'float32', weights);
}

/** A site's float64 sufficient statistics for an exact fit: what it signs and the ledger names. */
export function hashStatistics64(tensors: readonly NamedTensor64[]): string {
  return hashTensors('fedrx/exact-statistics/v1\0', 'float64', tensors);
}

/** A masked update of secure aggregation (uint32 ring elements): what the site signs and the ledger names. */
export function hashMasked(masked: Uint32Array): string {
  return createHash('sha256').update('fedrx/masked-update/v1\0').update(u32(masked.length)).update(new Uint8Array(masked.buffer, masked.byteOffset, masked.byteLength)).digest('hex');
}

/**
 * A compressed update (shared/compression/): the codec and the payload exactly as sent (half bit
 * patterns, or sparse words). The site signs it and the ledger names it, so an auditor holding the
 * bytes checks them, then decodes them over the parent model to the weights that were folded.
 */
export function hashCompressed(codec: string, payload: Uint16Array | Uint32Array): string {
  return createHash('sha256').update('fedrx/compressed-update/v1\0').update(str(codec)).update(u32(payload.length)).update(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)).digest('hex');
}

function hashTensors(domain: string, dtype: string, tensors: readonly { name: string; shape: number[]; data: Float32Array | Float64Array }[]): string {
  const h = createHash('sha256');
  h.update(domain);
  h.update(u32(tensors.length));
  for (const t of tensors) {
    h.update(tensorHead(t.name, t.shape, dtype, t.data.length));
    // Typed-array memory is little-endian on every platform Node ships for.
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

/** What precedes a tensor's bytes in the hash: its name, shape, dtype and length. */
function tensorHead(name: string, shape: readonly number[], dtype: string, length: number): Buffer {
  return Buffer.concat([str(name), u32(shape.length), ...shape.map(u32), str(dtype), u32(length)]);
}

/**
 * hashWeights of an update that arrives as a flat run of float32 values in table order (a
 * chunked stream): the same digest, fed a chunk at a time, never holding the update.
 */
export class StreamingWeightsHash {
  private readonly h = createHash('sha256').update(DOMAIN);
  private tensor = 0;
  /** Values still owed to the current tensor (-1 before its head is written). */
  private left = -1;

  constructor(private readonly table: readonly { name: string; shape: number[] }[]) {
    this.h.update(u32(table.length));
  }

  update(values: Float32Array): void {
    let at = 0;
    while (at < values.length) {
      if (this.left <= 0) this.nextTensor();
      const n = Math.min(this.left, values.length - at);
      this.h.update(new Uint8Array(values.buffer, values.byteOffset + at * 4, n * 4));
      this.left -= n;
      at += n;
    }
  }

  /** The digest, or null when fewer values than the table holds were fed. */
  digest(): string | null {
    // Trailing empty tensors still contribute their heads.
    while (this.tensor < this.table.length || this.left > 0) {
      if (this.left > 0) return null;
      this.nextTensor();
    }
    return this.h.digest('hex');
  }

  private nextTensor(): void {
    const t = this.table[this.tensor++];
    if (t === undefined) throw new RangeError('more values than the tensor table holds');
    this.left = t.shape.reduce((n, d) => n * d, 1);
    this.h.update(tensorHead(t.name, t.shape, 'float32', this.left));
  }
}
