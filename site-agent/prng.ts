// Small seeded randomness for the agent: the same seed gives the same hold-out split and the
// same minibatch order on every run, so a site's results can be reproduced.

import { createHash } from 'node:crypto';

/** 32-bit seed from any parts (numbers, strings): SHA-256 so nearby inputs give unrelated seeds. */
export function seedFrom(...parts: ReadonlyArray<string | number>): number {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${typeof p}:${String(p)}\0`);
  return h.digest().readUInt32LE(0);
}

/** mulberry32: fast, decent 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of 0..n-1 driven by `rand`. */
export function permutation(n: number, rand: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
