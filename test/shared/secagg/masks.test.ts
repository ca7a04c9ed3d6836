import { describe, expect, it } from 'vitest';
import { agreedKey, applyMask, expandMask, pairSign, x25519Pair } from '../../../shared/secagg/masks.js';

describe('masks', () => {
  it('expands a seed with ChaCha20: the all-zero key and nonce give RFC 7539\'s keystream', () => {
    // RFC 7539 §2.3.2 family: key 0, nonce 0, counter 0 → 76 b8 e0 ad a0 f1 3d 90 …
    const m = expandMask(new Uint8Array(32), 2);
    expect([m[0], m[1]]).toEqual([0xade0b876, 0x903df1a0]);
  });

  it('adds and takes away the same mask across chunk boundaries, mod 2^32', () => {
    const seed = new Uint8Array(32).fill(9);
    const n = 16_384 * 2 + 5; // two full 64 KB chunks and a tail
    const x = Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 0);
    const y = x.slice();
    applyMask(y, seed, 1);
    expect(y[0]).toBe((x[0]! + expandMask(seed, 1)[0]!) >>> 0);
    expect(y[n - 1]).toBe((x[n - 1]! + expandMask(seed, n)[n - 1]!) >>> 0);
    applyMask(y, seed, -1);
    expect(y).toEqual(x);
  });

  it('two sites agree on their pairwise key from either side, and their signed masks cancel', () => {
    const a = x25519Pair();
    const b = x25519Pair();
    const ka = agreedKey(a.secretKey, b.publicKey, 'pair', 'run', 3, 'site-a', 'site-b');
    const kb = agreedKey(b.secretKey, a.publicKey, 'pair', 'run', 3, 'site-b', 'site-a');
    expect(Buffer.from(ka).toString('hex')).toBe(Buffer.from(kb).toString('hex'));
    expect(Buffer.from(agreedKey(a.secretKey, b.publicKey, 'pair', 'run', 4, 'site-a', 'site-b')).equals(Buffer.from(ka))).toBe(false);
    const sum = new Uint32Array(10);
    applyMask(sum, ka, pairSign('site-a', 'site-b'));
    applyMask(sum, kb, pairSign('site-b', 'site-a'));
    expect([...sum]).toEqual(new Array(10).fill(0));
  });
});
