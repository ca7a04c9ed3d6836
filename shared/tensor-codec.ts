// The only place weights become bytes and bytes become weights.
//
// Frame layout (all little-endian):
//   0..3    magic "FRX1"
//   4..7    u32 header length H
//   8..8+H  header JSON, UTF-8, then zero padding so data starts on a 4-byte boundary
//   ...     float32 data of every tensor in header order, nothing after it
// A float64 frame (the sufficient statistics of exact fits) says `"dtype":"float64"` in its
// header, pads the header to an 8-byte boundary and carries float64 data; each decoder accepts
// only its own dtype, so float64 bytes are never read as weights nor the reverse. A uint32 frame
// (`"dtype":"uint32"`, 4-byte aligned) carries a masked update of secure aggregation: ring
// elements, never read as floats. A float16 frame (`"dtype":"float16"`, 2 bytes a value, header
// padded to 4) carries a compressed update's half-precision bit patterns (shared/compression/),
// which only shared/compression/float16.ts reads as numbers.
// The header carries the tensor table ({name, shape}[]) plus whatever the message kind needs;
// its meaning is checked by shared/wire.ts, its size arithmetic here.

import { FedrxError } from './errors.js';
import { sizeOf, type NamedTensor, type NamedTensor64, type TensorSpec, type Weights } from './tensors.js';

const MAGIC = 0x31585246; // "FRX1" read as u32 LE
const PREFIX = 8;
export const MAX_HEADER_BYTES = 256 * 1024;
/** A task's header carries the run's preprocessing: ~5 MB at 50,000 inputs (coordinator → site only). */
export const MAX_TASK_HEADER_BYTES = 64 * 1024 * 1024;
export const MAX_TENSORS = 4096;
export const MAX_RANK = 8;
export const MAX_PARAMS = 256 * 1024 * 1024;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface FrameHeader {
  tensors: TensorSpec[];
  [key: string]: unknown;
}

export interface DecodedFrame {
  header: FrameHeader;
  weights: Weights;
}

const pad = (n: number, to: 4 | 8): number => Math.ceil(n / to) * to;

export function encodeFrame(meta: Record<string, unknown>, weights: Weights): Buffer {
  return encodeAny(meta, weights, 4);
}

/** A float64 frame: `dtype: 'float64'` is added to the header. */
export function encodeFrame64(meta: Record<string, unknown>, tensors: readonly NamedTensor64[]): Buffer {
  return encodeAny({ ...meta, dtype: 'float64' }, tensors, 8);
}

/** A uint32 frame of one vector (`dtype: 'uint32'`): a masked update, ring elements mod 2^32. */
export function encodeFrameU32(meta: Record<string, unknown>, name: string, data: Uint32Array): Buffer {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const asFloats = { name, shape: [data.length], data: new Float32Array(bytes.buffer, bytes.byteOffset, data.length) };
  if (!LITTLE_ENDIAN) throw new FedrxError('E_INTERNAL', 'uint32 frames need a little-endian host');
  // Copied as bytes by encodeAny, so no value passes through a float.
  return encodeAny({ ...meta, dtype: 'uint32' }, [asFloats], 4);
}

/** Attacker-controlled, as decodeFrame: a uint32 frame of one vector, sizes checked before allocating. */
export function decodeFrameU32(buf: Uint8Array, maxValues = MAX_PARAMS): { header: FrameHeader; name: string; data: Uint32Array } {
  const { header, name, at, count } = oneVector(buf, maxValues, 'uint32');
  // A view when aligned (a whole WebSocket message usually is); one copy otherwise.
  if (LITTLE_ENDIAN && at % 4 === 0) return { header, name, data: new Uint32Array(buf.buffer, at, count) };
  const data = new Uint32Array(count);
  new Uint8Array(data.buffer).set(buf.subarray(at - buf.byteOffset, at - buf.byteOffset + count * 4));
  return { header, name, data };
}

/** A float16 frame of one vector (`dtype: 'float16'`): half bit patterns, copied as bytes. */
export function encodeFrameF16(meta: Record<string, unknown>, name: string, halves: Uint16Array): Buffer {
  if (!LITTLE_ENDIAN) throw new FedrxError('E_INTERNAL', 'float16 frames need a little-endian host');
  return encodeAny({ ...meta, dtype: 'float16' }, [{ name, shape: [halves.length], data: halves }], 2);
}

/** Attacker-controlled, as decodeFrame: a float16 frame of one vector, as bit patterns; sizes checked before allocating. */
export function decodeFrameF16(buf: Uint8Array, maxValues = MAX_PARAMS): { header: FrameHeader; name: string; data: Uint16Array } {
  const { header, name, at, count } = oneVector(buf, maxValues, 'float16');
  if (LITTLE_ENDIAN && at % 2 === 0) return { header, name, data: new Uint16Array(buf.buffer, at, count) };
  const data = new Uint16Array(count);
  new Uint8Array(data.buffer).set(buf.subarray(at - buf.byteOffset, at - buf.byteOffset + count * 2));
  return { header, name, data };
}

/** A frame of exactly one vector: its name, where its data starts in `buf.buffer`, and its length. */
function oneVector(buf: Uint8Array, maxValues: number, dtype: 'uint32' | 'float16'): { header: FrameHeader; name: string; at: number; count: number } {
  const { header, tensors, dataStart } = readLayout(buf, maxValues, dtype);
  if (tensors.length !== 1 || tensors[0]!.shape.length !== 1) throw new FedrxError('E_FRAME_HEADER', `a ${dtype} frame carries exactly one vector`);
  return { header, name: tensors[0]!.name, at: buf.byteOffset + dataStart, count: tensors[0]!.shape[0]! };
}

type RawTensor = TensorSpec & { data: Float32Array | Float64Array | Uint16Array };

function encodeAny(meta: Record<string, unknown>, tensors: readonly RawTensor[], bytes: 2 | 4 | 8): Buffer {
  const header: FrameHeader = { ...meta, tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = pad(PREFIX + json.length, bytes === 8 ? 8 : 4);
  let values = 0;
  for (const t of tensors) {
    if (t.data.length !== sizeOf(t.shape)) {
      throw new FedrxError('E_SHAPE_MISMATCH', `tensor ${t.name}: ${t.data.length} values for shape [${t.shape.join(',')}]`);
    }
    values += t.data.length;
  }
  const out = Buffer.alloc(dataStart + values * bytes);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(json.length, 4);
  json.copy(out, PREFIX);
  let off = dataStart;
  for (const t of tensors) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), off);
    } else {
      for (let i = 0; i < t.data.length; i++) {
        if (bytes === 4) out.writeFloatLE(t.data[i]!, off + i * 4);
        else out.writeDoubleLE(t.data[i]!, off + i * 8);
      }
    }
    off += t.data.byteLength;
  }
  return out;
}

/** Attacker-controlled: `buf` is whatever arrived on a socket. Checks sizes before allocating. */
export function decodeFrame(buf: Uint8Array, maxParams = MAX_PARAMS, maxHeaderBytes = MAX_HEADER_BYTES): DecodedFrame {
  const { header, tensors, dataStart } = readLayout(buf, maxParams, 'float32', maxHeaderBytes);
  const floats = tensors.reduce((n, t) => n + sizeOf(t.shape), 0);
  return { header, weights: sliceTensors(tensors, readFloats(buf, dataStart, floats)) };
}

/** Attacker-controlled, as decodeFrame: a float64 frame, sizes checked before allocating. */
export function decodeFrame64(buf: Uint8Array, maxValues = MAX_PARAMS): { header: FrameHeader; tensors: NamedTensor64[] } {
  const { header, tensors, dataStart } = readLayout(buf, maxValues, 'float64');
  const count = tensors.reduce((n, t) => n + sizeOf(t.shape), 0);
  // Always one copy: the data must be 8-byte aligned, which a socket's Buffer rarely is.
  const all = new Float64Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(all.buffer).set(buf.subarray(dataStart, dataStart + count * 8));
  } else {
    const view = new DataView(buf.buffer, buf.byteOffset + dataStart, count * 8);
    for (let i = 0; i < count; i++) all[i] = view.getFloat64(i * 8, true);
  }
  return { header, tensors: sliceTensors(tensors, all) };
}

/** Views of `all` in table order, one per tensor. */
function sliceTensors<A extends Float32Array | Float64Array>(tensors: readonly TensorSpec[], all: A): { name: string; shape: number[]; data: A }[] {
  let at = 0;
  return tensors.map((t) => {
    const n = sizeOf(t.shape);
    const data = all.subarray(at, at + n) as A;
    at += n;
    return { name: t.name, shape: t.shape, data };
  });
}

/** Peeks at the header's `kind` without decoding data (null when there is none or no header). */
export const frameKind = (buf: Uint8Array): string | null => frameField(buf, 'kind');

/** Peeks at a string field of the header (`kind`, `dtype`) without decoding data (null when there is none or no header). */
export function frameField(buf: Uint8Array, field: 'kind' | 'dtype'): string | null {
  try {
    const value = (readLayout(buf, MAX_PARAMS, null, MAX_TASK_HEADER_BYTES).header as Record<string, unknown> | null)?.[field];
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

type Dtype = 'float32' | 'float64' | 'uint32' | 'float16';

/** Header and tensor table of a frame of `dtype` values, its size checked exactly; null skips the data checks. */
function readLayout(
  buf: Uint8Array,
  maxValues: number,
  want: Dtype | null,
  maxHeaderBytes = MAX_HEADER_BYTES,
): { header: FrameHeader; tensors: TensorSpec[]; dataStart: number } {
  if (buf.byteLength < PREFIX) throw new FedrxError('E_FRAME_TRUNCATED', `frame of ${buf.byteLength} bytes has no header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new FedrxError('E_FRAME_HEADER', 'binary frame does not start with FRX1');
  const headerLen = view.getUint32(4, true);
  if (headerLen > maxHeaderBytes) throw new FedrxError('E_FRAME_HEADER', `header of ${headerLen} bytes exceeds ${maxHeaderBytes}`);
  if (PREFIX + headerLen > buf.byteLength) throw new FedrxError('E_FRAME_TRUNCATED', 'frame ends inside its header');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + PREFIX, headerLen).toString('utf8'));
  } catch {
    throw new FedrxError('E_FRAME_HEADER', 'frame header is not JSON');
  }
  if (want === null) return { header: header as FrameHeader, tensors: [], dataStart: 0 };
  // Attacker-controlled: a float32 frame names no dtype; anything but the expected one is refused.
  const dtype = (header as { dtype?: unknown } | null)?.dtype ?? 'float32';
  if (dtype !== want) throw new FedrxError('E_FRAME_HEADER', `frame dtype ${typeof dtype === 'string' ? dtype.slice(0, 16) : typeof dtype} is not the expected ${want}`);
  const bytes = want === 'float64' ? 8 : want === 'float16' ? 2 : 4;
  const tensors = checkTensorTable(header, maxValues);
  const values = tensors.reduce((n, t) => n + sizeOf(t.shape), 0);
  const dataStart = pad(PREFIX + headerLen, bytes === 8 ? 8 : 4);
  const expected = dataStart + values * bytes;
  if (buf.byteLength < expected) {
    throw new FedrxError('E_FRAME_TRUNCATED', `frame has ${buf.byteLength} bytes, header declares ${expected}`);
  }
  if (buf.byteLength > expected) {
    throw new FedrxError('E_FRAME_OVERSIZED', `frame has ${buf.byteLength} bytes, header declares ${expected}`);
  }
  return { header: header as FrameHeader, tensors, dataStart };
}

function checkTensorTable(header: unknown, maxParams: number): TensorSpec[] {
  if (typeof header !== 'object' || header === null || !Array.isArray((header as { tensors?: unknown }).tensors)) {
    throw new FedrxError('E_FRAME_HEADER', 'frame header has no tensor table');
  }
  const table = (header as { tensors: unknown[] }).tensors;
  if (table.length > MAX_TENSORS) throw new FedrxError('E_FRAME_HEADER', `more than ${MAX_TENSORS} tensors`);
  let params = 0;
  const out: TensorSpec[] = [];
  for (const t of table) {
    const { name, shape } = (t ?? {}) as { name?: unknown; shape?: unknown };
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new FedrxError('E_FRAME_HEADER', 'tensor name must be a non-empty string of at most 256 characters');
    }
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FedrxError('E_FRAME_HEADER', `tensor ${name}: shape must be at most ${MAX_RANK} non-negative integers`);
    }
    params += sizeOf(shape as number[]);
    if (params > maxParams) throw new FedrxError('E_FRAME_OVERSIZED', `frame declares more than ${maxParams} parameters`);
    out.push({ name, shape: shape as number[] });
  }
  return out;
}

function readFloats(buf: Uint8Array, start: number, count: number): Float32Array {
  const byteStart = buf.byteOffset + start;
  if (LITTLE_ENDIAN && byteStart % 4 === 0) return new Float32Array(buf.buffer, byteStart, count);
  // Misaligned (Node's pooled Buffers) or big-endian host: one copy.
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(buf.subarray(start, start + count * 4));
  } else {
    const view = new DataView(buf.buffer, byteStart, count * 4);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
