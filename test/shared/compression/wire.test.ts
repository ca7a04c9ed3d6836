import { describe, expect, it } from 'vitest';
import { compressUpdate } from '../../../shared/compression/update-codec.js';
import { decodeCompressedUpdate, encodeCompressedUpdate } from '../../../shared/compression/wire.js';
import { hashCompressed } from '../../../shared/model-hash.js';
import { encodeFrameF16, encodeFrameU32, frameKind } from '../../../shared/tensor-codec.js';
import type { Weights } from '../../../shared/tensors.js';
import { thrownCode } from '../../helpers/error-code.js';

const GLOBAL: Weights = [{ name: 'w', shape: [8], data: new Float32Array(8) }];
const TRAINED: Weights = [{ name: 'w', shape: [8], data: new Float32Array([0.5, -1, 0, 0, 3, 0, 0, 0.25]) }];
const meta = (updateHash: string) => ({ runId: 'run-1', round: 2, siteId: 'site-a', baseModelHash: 'a'.repeat(64), updateHash, numExamples: 10, trainLoss: 0.5, signature: 'b'.repeat(128) });

describe('compressed update frames', () => {
  it('float16 and top-k frames decode to the payload sent, hashed as sent', () => {
    for (const c of [{ codec: 'float16' }, { codec: 'topk', fraction: 0.25 }] as const) {
      const { payload } = compressUpdate(GLOBAL, TRAINED, c, null);
      const frame = encodeCompressedUpdate(meta(hashCompressed(payload.codec, payload.data)), payload);
      expect(frameKind(frame)).toBe('compressed-update');
      const back = decodeCompressedUpdate(frame);
      expect(back.header).toMatchObject({ kind: 'compressed-update', codec: c.codec, dtype: c.codec === 'float16' ? 'float16' : 'uint32', round: 2 });
      expect(back.payload.codec).toBe(c.codec);
      expect(Array.from(back.payload.data)).toEqual(Array.from(payload.data));
    }
  });

  it('sizes: float16 is 2 bytes a parameter, top-k 8 bytes an entry, beside the header', () => {
    const half = compressUpdate(GLOBAL, TRAINED, { codec: 'float16' }, null).payload;
    const sparse = compressUpdate(GLOBAL, TRAINED, { codec: 'topk', fraction: 0.25 }, null).payload;
    const h = encodeCompressedUpdate(meta(hashCompressed('float16', half.data)), half);
    const s = encodeCompressedUpdate(meta(hashCompressed('topk', sparse.data)), sparse);
    expect(h.length - h.readUInt32LE(4)).toBeLessThanOrEqual(8 + 3 + 16); // prefix, padding, 8 halves
    expect(sparse.data.length).toBe(4); // k = 2: two indices, two values
    expect(s.length - s.readUInt32LE(4)).toBeLessThanOrEqual(8 + 3 + 16);
  });

  // Attacker-controlled: a payload that is not the hashed one, a codec in the other dtype, a bad header.
  it('refuses bytes that do not match updateHash, a codec sent in the other dtype, and a header off its schema', () => {
    const { payload } = compressUpdate(GLOBAL, TRAINED, { codec: 'float16' }, null);
    if (payload.codec !== 'float16') throw new Error('a float16 payload');
    const frame = encodeCompressedUpdate(meta(hashCompressed('float16', payload.data)), payload);
    frame[frame.length - 1]! ^= 1;
    expect(thrownCode(() => decodeCompressedUpdate(frame))).toBe('E_HASH_MISMATCH');
    const header = { v: 1, kind: 'compressed-update', codec: 'topk', ...meta(hashCompressed('float16', payload.data)) };
    expect(thrownCode(() => decodeCompressedUpdate(encodeFrameF16(header, 'delta', payload.data)))).toBe('E_FRAME_HEADER');
    const halfInWords = { v: 1, kind: 'compressed-update', codec: 'float16', ...meta('c'.repeat(64)) };
    expect(thrownCode(() => decodeCompressedUpdate(encodeFrameU32(halfInWords, 'delta', new Uint32Array(4))))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeCompressedUpdate(encodeFrameF16({ ...header, codec: 'float16', round: 0 }, 'delta', payload.data)))).toBe('E_FRAME_HEADER');
  });
});
