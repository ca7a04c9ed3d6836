import { createHash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { hashWeights } from '../../shared/model-hash.js';
import { decodeFrame, encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';

function tiny(): Weights {
  return [
    { name: 'k', shape: [2, 3], data: new Float32Array([1, -2, 0.5, 0, -0, 3]) },
    { name: 'b', shape: [1], data: new Float32Array([0.25]) },
  ];
}

/**
 * The canonical byte string, written out by hand with fixed offsets:
 *   "fedrx/model/v1\0" | u32 count | per tensor: u32 len(name) name | u32 rank | u32 dims… |
 *   u32 7 "float32" | u32 numel | numel × f32 LE
 */
function handBytes(): Buffer {
  const domain = 'fedrx/model/v1\0'; // 15 bytes
  const size =
    15 + 4 +
    (4 + 1 + 4 + 2 * 4 + 4 + 7 + 4 + 6 * 4) + // "k": 56
    (4 + 1 + 4 + 1 * 4 + 4 + 7 + 4 + 1 * 4); //   "b": 32
  expect(size).toBe(107);
  const b = Buffer.alloc(size);
  let o = b.write(domain, 0, 'latin1');
  expect(o).toBe(15);
  o = b.writeUInt32LE(2, o);
  // tensor "k"
  o = b.writeUInt32LE(1, o);
  o += b.write('k', o, 'latin1');
  o = b.writeUInt32LE(2, o);
  o = b.writeUInt32LE(2, o);
  o = b.writeUInt32LE(3, o);
  o = b.writeUInt32LE(7, o);
  o += b.write('float32', o, 'latin1');
  o = b.writeUInt32LE(6, o);
  for (const x of [1, -2, 0.5, 0, -0, 3]) o = b.writeFloatLE(x, o);
  // tensor "b"
  o = b.writeUInt32LE(1, o);
  o += b.write('b', o, 'latin1');
  o = b.writeUInt32LE(1, o);
  o = b.writeUInt32LE(1, o);
  o = b.writeUInt32LE(7, o);
  o += b.write('float32', o, 'latin1');
  o = b.writeUInt32LE(1, o);
  o = b.writeFloatLE(0.25, o);
  expect(o).toBe(size);
  return b;
}

describe('hashWeights', () => {
  it('is plain SHA-256 of the documented byte string (node:crypto and @noble/hashes agree)', () => {
    const bytes = handBytes();
    // Spot checks of the hand layout: -0 is written as 0x80000000, the second tensor starts at 15+4+56.
    expect(bytes.readUInt32LE(15 + 4 + 32 + 16)).toBe(0x80000000);
    expect(bytes.readUInt32LE(75)).toBe(1);
    expect(bytes.toString('latin1', 79, 80)).toBe('b');
    const viaNode = createHash('sha256').update(bytes).digest('hex');
    const viaNoble = bytesToHex(sha256(bytes));
    expect(viaNoble).toBe(viaNode);
    expect(hashWeights(tiny())).toBe(viaNode);
    expect(hashWeights(tiny())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes only the view of a subarray, not its whole backing buffer', () => {
    const backing = new Float32Array([7, 1, -2, 0.5, 0, -0, 3, 7]);
    const w = tiny();
    w[0] = { name: 'k', shape: [2, 3], data: backing.subarray(1, 7) };
    expect(hashWeights(w)).toBe(hashWeights(tiny()));
  });

  it('changes with the name, the shape (same byte count), one data bit, or the tensor order', () => {
    const base = hashWeights(tiny());
    const renamed = tiny();
    renamed[0]!.name = 'K';
    const reshaped = tiny();
    reshaped[0]!.shape = [3, 2];
    const flipped = tiny();
    new Uint32Array(flipped[1]!.data.buffer)[0]! ^= 1; // lowest mantissa bit of 0.25
    expect(flipped[1]!.data[0]).not.toBe(0.25);
    const negZero = tiny();
    negZero[0]!.data[4] = 0; // -0 → +0: only the sign bit differs
    const swapped = tiny().reverse();
    const hashes = [base, hashWeights(renamed), hashWeights(reshaped), hashWeights(flipped), hashWeights(negZero), hashWeights(swapped)];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('does not confuse tensor boundaries (name/shape length prefixes)', () => {
    const a: Weights = [{ name: 'ab', shape: [1], data: new Float32Array([1]) }];
    const b: Weights = [{ name: 'a', shape: [1], data: new Float32Array([1]) }];
    const c: Weights = [
      { name: 'x', shape: [1], data: new Float32Array([1]) },
      { name: 'y', shape: [0], data: new Float32Array(0) },
    ];
    const d: Weights = [{ name: 'x', shape: [1], data: new Float32Array([1]) }];
    expect(hashWeights(a)).not.toBe(hashWeights(b));
    expect(hashWeights(c)).not.toBe(hashWeights(d));
    expect(hashWeights([])).toBe(createHash('sha256').update(Buffer.concat([Buffer.from('fedrx/model/v1\0'), Buffer.alloc(4)])).digest('hex'));
  });

  it('weights decoded from an encoded frame hash like the originals (aligned and copied)', () => {
    const w = tiny();
    const enc = encodeFrame({ kind: 'update' }, w);
    expect(hashWeights(decodeFrame(enc).weights)).toBe(hashWeights(w));
    const odd = new Uint8Array(new ArrayBuffer(enc.length + 1), 1, enc.length);
    odd.set(enc);
    expect(hashWeights(decodeFrame(odd).weights)).toBe(hashWeights(w));
  });
});
