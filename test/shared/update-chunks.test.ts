// The chunked update's pieces on small hand-worked vectors: the flat layout across tensors, the
// streaming hash (equal to hashWeights however the values are cut), and a stream made by a site
// read back by the coordinator's decoders into the very update it came from.

import { describe, expect, it } from 'vitest';
import { hashWeights, StreamingWeightsHash } from '../../shared/model-hash.js';
import { generateKeyPair, streamBody, updateBody, verify } from '../../shared/signing.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { chunkHash, decodeChunkFrame, decodeStreamHeader, MAX_STREAM_CHUNKS, readFlat, segments, updateStream } from '../../shared/update-chunks.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';
import { thrownCode } from '../helpers/error-code.js';

// 2×3 kernel, empty tensor, 2 biases: flat values 1..6, then 7, 8.
const W: Weights = [
  { name: 'k', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  { name: 'empty', shape: [0], data: new Float32Array(0) },
  { name: 'b', shape: [2], data: new Float32Array([7, 8]) },
];

const meta = (updateHash: string) => ({
  v: PROTOCOL_VERSION as 1,
  kind: 'update' as const,
  runId: 'run-1',
  round: 2,
  siteId: 'site-a',
  baseModelHash: 'a'.repeat(64),
  updateHash,
  numExamples: 3,
  trainLoss: 0.25,
  signature: 'c'.repeat(128),
});

describe('flat layout', () => {
  it('segments name the part of each tensor a run of flat values covers', () => {
    expect([...segments([6, 0, 2], 4, 3)]).toEqual([
      { tensor: 0, from: 4, count: 2, at: 0 },
      { tensor: 2, from: 0, count: 1, at: 2 },
    ]);
    expect([...segments([6, 0, 2], 0, 8)].map((s) => s.count)).toEqual([6, 2]);
    expect([...readFlat(W, 5, new Float32Array(3))]).toEqual([6, 7, 8]);
  });
});

describe('streaming hash', () => {
  it.each([1, 2, 3, 5, 8])('equals hashWeights when fed in runs of %i values', (n) => {
    const h = new StreamingWeightsHash(W);
    const flat = readFlat(W, 0, new Float32Array(8));
    for (let at = 0; at < 8; at += n) h.update(flat.subarray(at, at + n));
    expect(h.digest()).toBe(hashWeights(W));
  });

  it('has no digest before every value arrived, and refuses one too many', () => {
    const h = new StreamingWeightsHash(W);
    h.update(new Float32Array([1, 2, 3, 4, 5, 6, 7]));
    expect(h.digest()).toBeNull();
    expect(() => h.update(new Float32Array([8, 9]))).toThrow(RangeError);
  });
});

describe('update stream', () => {
  const keys = generateKeyPair();
  const updateHash = hashWeights(W);

  it('cuts the update into signed, hashed chunks that reassemble to it', () => {
    const s = updateStream(meta(updateHash), W, keys, 3);
    expect(s.chunkCount).toBe(3);
    const h = decodeStreamHeader(s.header);
    expect(h).toMatchObject({ kind: 'update-stream', totalValues: 8, chunkValues: 3, updateHash, update: [{ name: 'k', shape: [2, 3] }, { name: 'empty', shape: [0] }, { name: 'b', shape: [2] }] });
    expect(verify('update-stream', streamBody(h), h.streamSignature, keys.publicKey)).toBe(true);
    // The one-frame signature travels unchanged: the ledger records it.
    expect(updateBody(h)).toEqual(updateBody(meta(updateHash)));
    const values: number[] = [];
    for (let i = 0; i < s.chunkCount; i++) {
      const c = decodeChunkFrame(s.chunk(i), 3);
      expect(c.header).toMatchObject({ kind: 'update-chunk', streamId: h.streamId, runId: 'run-1', round: 2, index: i });
      expect(chunkHash(c.values)).toBe(h.chunkHashes[i]);
      values.push(...c.values);
    }
    expect(values).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The last chunk carries the remainder.
    expect(decodeChunkFrame(s.chunk(2), 3).values.length).toBe(2);
    // Another stream of the same update has another id.
    expect(decodeStreamHeader(updateStream(meta(updateHash), W, keys, 3).header).streamId).not.toBe(h.streamId);
  });

  it('makes chunks larger rather than list more than MAX_STREAM_CHUNKS hashes', () => {
    const wide: Weights = [{ name: 'w', shape: [2000], data: new Float32Array(2000) }];
    const s = updateStream(meta(hashWeights(wide)), wide, keys, 1);
    expect(MAX_STREAM_CHUNKS).toBe(512);
    expect(decodeStreamHeader(s.header)).toMatchObject({ chunkValues: 4, totalValues: 2000 });
    expect(s.chunkCount).toBe(500);
  });

  it('refuses a header whose sizes or hash list disagree with its table, and a chunk larger than the stream allows', () => {
    const h = decodeStreamHeader(updateStream(meta(updateHash), W, keys, 3).header);
    const { tensors: _t, ...fields } = h;
    expect(thrownCode(() => decodeStreamHeader(encodeFrame({ ...fields, totalValues: 9 }, [])))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeStreamHeader(encodeFrame({ ...fields, chunkHashes: h.chunkHashes.slice(1) }, [])))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeStreamHeader(encodeFrame({ ...fields, extra: 1 }, [])))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeChunkFrame(updateStream(meta(updateHash), W, keys, 4).chunk(0), 3))).toBe('E_FRAME_OVERSIZED');
  });
});
