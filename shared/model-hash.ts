// Canonical SHA-256 of a set of weights: the identity of a model (or of one site's update).
// Covers names, shapes, dtype and the raw little-endian float32 bytes, in order, with a domain
// tag so a model hash can never collide with a ledger entry hash. Bulk bytes go through
// node:crypto (~1.6 GB/s here); the digest is plain SHA-256, so any implementation can check it.

import { createHash } from 'node:crypto';
import type { Weights } from './tensors.js';

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
  const h = createHash('sha256');
  h.update(DOMAIN);
  h.update(u32(weights.length));
  for (const t of weights) {
    h.update(str(t.name));
    h.update(u32(t.shape.length));
    for (const d of t.shape) h.update(u32(d));
    h.update(str('float32'));
    h.update(u32(t.data.length));
    // Float32Array memory is little-endian on every platform Node ships for.
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}
