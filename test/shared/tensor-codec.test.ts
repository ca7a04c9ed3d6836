import { describe, expect, it } from 'vitest';
import { FedrxError, type ErrorCode } from '../../shared/errors.js';
import { decodeFrame, decodeFrame64, decodeFrameF16, decodeFrameU32, encodeFrame, encodeFrame64, encodeFrameF16, frameField, frameKind } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';

/** Float32 values from raw u32 bit patterns, never passing through a JS number (which could quiet a NaN). */
function fromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

function bitsOf(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

function codeOf(f: () => unknown): ErrorCode | 'no error' | 'not a FedrxError' {
  try {
    f();
  } catch (e) {
    return e instanceof FedrxError ? e.code : 'not a FedrxError';
  }
  return 'no error';
}

/** A frame by hand: magic, header length, header bytes, zero padding to 4, then `data` bytes. */
function handFrame(header: unknown, data: Uint8Array = new Uint8Array(0), magic = 'FRX1'): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const dataStart = (8 + json.length + 3) & ~3;
  const out = Buffer.alloc(dataStart + data.length);
  out.write(magic, 0, 'latin1');
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  out.set(data, dataStart);
  return out;
}

// Special values, by bit pattern: -0, smallest subnormal, largest subnormal, a quiet NaN with a
// payload, a negative signalling-style NaN, ±Infinity, max float.
const SPECIAL_BITS = [0x80000000, 0x00000001, 0x007fffff, 0x7fc12345, 0xffa00001, 0x7f800000, 0xff800000, 0x7f7fffff];

function model(): Weights {
  return [
    { name: 'dense0/kernel', shape: [2, 4], data: fromBits(SPECIAL_BITS) },
    { name: 'dense0/bias', shape: [4], data: new Float32Array([1.5, -2.25, 0, 3e-8]) },
    { name: 'scalar', shape: [], data: new Float32Array([42]) },
    { name: 'empty', shape: [0, 3], data: new Float32Array(0) },
  ];
}

describe('encodeFrame / decodeFrame round trip', () => {
  it('keeps names, shapes, meta and every bit of the data', () => {
    const w = model();
    const buf = encodeFrame({ kind: 'update', round: 3 }, w);
    const { header, weights } = decodeFrame(buf);
    expect(header.kind).toBe('update');
    expect(header.round).toBe(3);
    expect(header.tensors).toEqual([
      { name: 'dense0/kernel', shape: [2, 4] },
      { name: 'dense0/bias', shape: [4] },
      { name: 'scalar', shape: [] },
      { name: 'empty', shape: [0, 3] },
    ]);
    expect(weights.map((t) => t.name)).toEqual(['dense0/kernel', 'dense0/bias', 'scalar', 'empty']);
    expect(weights.map((t) => t.shape)).toEqual([[2, 4], [4], [], [0, 3]]);
    expect(weights.map((t) => t.data.length)).toEqual([8, 4, 1, 0]);
    weights.forEach((t, i) => expect(bitsOf(t.data)).toEqual(bitsOf(w[i]!.data)));
    // Spelled out: -0 stays -0, subnormals stay, NaN payloads survive.
    const k = weights[0]!.data;
    expect(Object.is(k[0], -0)).toBe(true);
    expect(k[1]).toBe(2 ** -149);
    expect(bitsOf(k).map((b) => b.toString(16))).toEqual(SPECIAL_BITS.map((b) => b.toString(16)));
  });

  it('writes the documented layout (magic, LE header length, JSON, zero pad, LE float32)', () => {
    const w: Weights = [{ name: 'a', shape: [2], data: new Float32Array([1, -2]) }];
    const buf = encodeFrame({}, w);
    const json = '{"tensors":[{"name":"a","shape":[2]}]}';
    expect(json.length).toBe(38); // 8 + 38 = 46: two bytes of padding
    expect(buf.subarray(0, 4).toString('latin1')).toBe('FRX1');
    expect(buf.readUInt32LE(4)).toBe(38);
    expect(buf.subarray(8, 46).toString('utf8')).toBe(json);
    expect([buf[46], buf[47]]).toEqual([0, 0]);
    expect(buf.length).toBe(48 + 8);
    expect(buf.readFloatLE(48)).toBe(1);
    expect(buf.readFloatLE(52)).toBe(-2);
  });

  it('aligns data on 4 bytes for every header length mod 4', () => {
    const seen = new Set<number>();
    for (let pad = 0; pad < 4; pad++) {
      const w: Weights = [{ name: 't'.repeat(1 + pad), shape: [3], data: new Float32Array([1, 2, 3]) }];
      const buf = encodeFrame({}, w);
      const headerLen = buf.readUInt32LE(4);
      seen.add(headerLen % 4);
      const dataStart = (8 + headerLen + 3) & ~3;
      expect(dataStart % 4).toBe(0);
      expect(buf.length).toBe(dataStart + 12);
      for (let i = 8 + headerLen; i < dataStart; i++) expect(buf[i]).toBe(0);
      expect(buf.readFloatLE(dataStart + 8)).toBe(3);
      const back = decodeFrame(buf).weights[0]!;
      expect(Array.from(back.data)).toEqual([1, 2, 3]);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it('decodes a frame at an odd byteOffset (copy path) and a 4-aligned one (view path)', () => {
    const w = model();
    const enc = encodeFrame({ k: 1 }, w);
    const backing = new ArrayBuffer(enc.length + 8);
    const odd = new Uint8Array(backing, 3, enc.length);
    odd.set(enc);
    const d = decodeFrame(odd);
    d.weights.forEach((t, i) => {
      expect(t.data.byteOffset % 4).toBe(0);
      expect(bitsOf(t.data)).toEqual(bitsOf(w[i]!.data));
    });
    // Copy path: the decoded data does not alias the input bytes.
    expect(d.weights[0]!.data.buffer).not.toBe(backing);

    const aligned = new Uint8Array(backing, 4, enc.length);
    aligned.set(enc);
    const a = decodeFrame(aligned);
    a.weights.forEach((t, i) => expect(bitsOf(t.data)).toEqual(bitsOf(w[i]!.data)));
    expect(a.weights[0]!.data.buffer).toBe(backing);

    // A Node Buffer sliced at an odd offset from a pooled slab.
    const slab = Buffer.concat([Buffer.from([9]), enc]);
    const sliced = slab.subarray(1);
    const s = decodeFrame(sliced);
    s.weights.forEach((t, i) => expect(bitsOf(t.data)).toEqual(bitsOf(w[i]!.data)));
  });
});

describe('decodeFrame rejects bad frames', () => {
  const w: Weights = [{ name: 'x', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }];
  const good = encodeFrame({}, w);

  it('accepts the untouched frame (control)', () => {
    expect(codeOf(() => decodeFrame(good))).toBe('no error');
  });

  it('truncated frames → E_FRAME_TRUNCATED', () => {
    expect(codeOf(() => decodeFrame(good.subarray(0, good.length - 1)))).toBe('E_FRAME_TRUNCATED');
    expect(codeOf(() => decodeFrame(good.subarray(0, good.length - 4)))).toBe('E_FRAME_TRUNCATED');
    expect(codeOf(() => decodeFrame(good.subarray(0, 7)))).toBe('E_FRAME_TRUNCATED');
    expect(codeOf(() => decodeFrame(good.subarray(0, 20)))).toBe('E_FRAME_TRUNCATED'); // inside the header
    expect(codeOf(() => decodeFrame(new Uint8Array(0)))).toBe('E_FRAME_TRUNCATED');
  });

  it('extra trailing bytes → E_FRAME_OVERSIZED', () => {
    expect(codeOf(() => decodeFrame(Buffer.concat([good, Buffer.from([0])])))).toBe('E_FRAME_OVERSIZED');
    expect(codeOf(() => decodeFrame(Buffer.concat([good, Buffer.alloc(4)])))).toBe('E_FRAME_OVERSIZED');
  });

  it('declared params above the limit → E_FRAME_OVERSIZED before looking for the data', () => {
    // The frame carries no data at all: an allocating decoder would fail differently (or OOM).
    const huge = handFrame({ tensors: [{ name: 'big', shape: [65536, 65536] }] });
    expect(codeOf(() => decodeFrame(huge))).toBe('E_FRAME_OVERSIZED');
    // Limit counts across tensors and honours the maxParams argument.
    const two = handFrame({ tensors: [{ name: 'a', shape: [3] }, { name: 'b', shape: [2] }] });
    expect(codeOf(() => decodeFrame(two, 4))).toBe('E_FRAME_OVERSIZED');
    expect(codeOf(() => decodeFrame(two, 5))).toBe('E_FRAME_TRUNCATED'); // within limit, data missing
    expect(codeOf(() => decodeFrame(good, 3))).toBe('E_FRAME_OVERSIZED');
    expect(codeOf(() => decodeFrame(good, 4))).toBe('no error');
  });

  it('bad magic / non-JSON header / bad tensor table → E_FRAME_HEADER', () => {
    const badMagic = Buffer.from(good);
    badMagic[3] = 0x32; // "FRX2"
    expect(codeOf(() => decodeFrame(badMagic))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame(handFrame({ tensors: [] }, new Uint8Array(0), 'FRY1')))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame(handFrame('{"tensors":[', new Uint8Array(0))))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame(handFrame('not json')))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame(handFrame('null')))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame(handFrame({ nope: [] })))).toBe('E_FRAME_HEADER');
    const data8 = new Uint8Array(8);
    const badShapes: unknown[] = [[2, -2], [1.5], ['2'], [2, null], 'x', Array(9).fill(1), [2 ** 53]];
    for (const shape of badShapes) {
      expect(codeOf(() => decodeFrame(handFrame({ tensors: [{ name: 'x', shape }] }, data8)))).toBe('E_FRAME_HEADER');
    }
    expect(codeOf(() => decodeFrame(handFrame({ tensors: [{ name: '', shape: [2] }] }, data8)))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame(handFrame({ tensors: [{ shape: [2] }] }, data8)))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame(handFrame({ tensors: [null] }, data8)))).toBe('E_FRAME_HEADER');
    // Control: the same hand-built frame with a valid table decodes.
    const ok = decodeFrame(handFrame({ tensors: [{ name: 'x', shape: [2] }] }, data8));
    expect(Array.from(ok.weights[0]!.data)).toEqual([0, 0]);
  });

  it('header length field larger than the limit → E_FRAME_HEADER', () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(0xffffffff, 4);
    expect(codeOf(() => decodeFrame(b))).toBe('E_FRAME_HEADER');
  });
});

describe('encodeFrame', () => {
  it('data length ≠ shape → E_SHAPE_MISMATCH', () => {
    expect(codeOf(() => encodeFrame({}, [{ name: 'x', shape: [2, 2], data: new Float32Array(3) }]))).toBe('E_SHAPE_MISMATCH');
    expect(codeOf(() => encodeFrame({}, [{ name: 'x', shape: [2], data: new Float32Array(3) }]))).toBe('E_SHAPE_MISMATCH');
    expect(codeOf(() => encodeFrame({}, [{ name: 'x', shape: [2], data: new Float32Array(2) }]))).toBe('no error');
  });

  it('encodes a subarray view with its own offset, not the whole backing buffer', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    const buf = encodeFrame({}, [{ name: 'v', shape: [3], data: backing.subarray(2, 5) }]);
    expect(Array.from(decodeFrame(buf).weights[0]!.data)).toEqual([1, 2, 3]);
  });

  it('the tensor table cannot be overridden by meta', () => {
    const buf = encodeFrame({ tensors: [{ name: 'evil', shape: [1] }] }, [{ name: 'v', shape: [1], data: new Float32Array([5]) }]);
    expect(decodeFrame(buf).header.tensors).toEqual([{ name: 'v', shape: [1] }]);
  });
});

describe('float64 frames', () => {
  const stats = [
    { name: 'fold0', shape: [2, 3], data: Float64Array.of(1e-300, -0, Math.PI, 1 / 3, 2 ** 60 + 1, -7) },
    { name: 'fold1', shape: [0, 3], data: new Float64Array(0) },
  ];

  it('round-trips float64 values bit for bit, also from a misaligned buffer', () => {
    const buf = encodeFrame64({ kind: 'exact-stats' }, stats);
    const shifted = Buffer.alloc(buf.length + 3);
    buf.copy(shifted, 3);
    for (const b of [buf, shifted.subarray(3)]) {
      const { header, tensors } = decodeFrame64(b);
      expect(header.dtype).toBe('float64');
      expect(tensors.map((t) => t.shape)).toEqual([[2, 3], [0, 3]]);
      expect([...tensors[0]!.data]).toEqual([...stats[0]!.data]);
      expect(Object.is(tensors[0]!.data[1], -0)).toBe(true);
    }
    expect(frameKind(buf)).toBe('exact-stats');
    expect(buf.length).toBe(Math.ceil((8 + JSON.stringify({ kind: 'exact-stats', dtype: 'float64', tensors: stats.map(({ name, shape }) => ({ name, shape })) }).length) / 8) * 8 + 6 * 8);
  });

  it('each decoder refuses the other dtype, and a frame whose size differs from its header', () => {
    const f64 = encodeFrame64({ kind: 'exact-stats' }, stats);
    const f32 = encodeFrame({ kind: 'update' }, [{ name: 'w', shape: [2], data: Float32Array.of(1, 2) }]);
    expect(codeOf(() => decodeFrame(f64))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame64(f32))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrame64(f64.subarray(0, f64.length - 8)))).toBe('E_FRAME_TRUNCATED');
    expect(codeOf(() => decodeFrame64(Buffer.concat([f64, Buffer.alloc(8)])))).toBe('E_FRAME_OVERSIZED');
    expect(codeOf(() => decodeFrame64(f64, 5))).toBe('E_FRAME_OVERSIZED');
  });

  it('a float16 frame carries one vector of half bit patterns, as bytes, and only a float16 decoder reads it', () => {
    const halves = new Uint16Array([0x3c00, 0x8000, 0x7bff]);
    const f16 = encodeFrameF16({ kind: 'compressed-update' }, 'delta', halves);
    expect(f16.length % 2).toBe(0);
    const back = decodeFrameF16(f16);
    expect(back.header.dtype).toBe('float16');
    expect([back.name, Array.from(back.data)]).toEqual(['delta', [0x3c00, 0x8000, 0x7bff]]);
    // One byte off (copied when misaligned, as a socket's Buffer may be): the same values.
    const shifted = Buffer.concat([Buffer.alloc(1), f16]).subarray(1);
    expect(Array.from(decodeFrameF16(shifted).data)).toEqual([0x3c00, 0x8000, 0x7bff]);
    expect(codeOf(() => decodeFrame(f16))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrameU32(f16))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeFrameF16(f16.subarray(0, f16.length - 2)))).toBe('E_FRAME_TRUNCATED');
    expect(codeOf(() => decodeFrameF16(Buffer.concat([f16, Buffer.alloc(2)])))).toBe('E_FRAME_OVERSIZED');
    expect(codeOf(() => decodeFrameF16(f16, 2))).toBe('E_FRAME_OVERSIZED');
    expect(frameField(f16, 'dtype')).toBe('float16');
  });
});
