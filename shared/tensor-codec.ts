// The only place weights become bytes and bytes become weights.
//
// Frame layout (all little-endian):
//   0..3    magic "FRX1"
//   4..7    u32 header length H
//   8..8+H  header JSON, UTF-8, then zero padding so data starts on a 4-byte boundary
//   ...     float32 data of every tensor in header order, nothing after it
// The header carries the tensor table ({name, shape}[]) plus whatever the message kind needs;
// its meaning is checked by shared/wire.ts, its size arithmetic here.

import { FedrxError } from './errors.js';
import { sizeOf, type NamedTensor, type TensorSpec, type Weights } from './tensors.js';

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

const pad4 = (n: number): number => (n + 3) & ~3;

export function encodeFrame(meta: Record<string, unknown>, weights: Weights): Buffer {
  const header: FrameHeader = { ...meta, tensors: weights.map((t) => ({ name: t.name, shape: t.shape })) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = pad4(PREFIX + json.length);
  let floats = 0;
  for (const t of weights) {
    if (t.data.length !== sizeOf(t.shape)) {
      throw new FedrxError('E_SHAPE_MISMATCH', `tensor ${t.name}: ${t.data.length} values for shape [${t.shape.join(',')}]`);
    }
    floats += t.data.length;
  }
  const out = Buffer.alloc(dataStart + floats * 4);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(json.length, 4);
  json.copy(out, PREFIX);
  let off = dataStart;
  for (const t of weights) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), off);
    } else {
      for (let i = 0; i < t.data.length; i++) out.writeFloatLE(t.data[i]!, off + i * 4);
    }
    off += t.data.byteLength;
  }
  return out;
}

/** Attacker-controlled: `buf` is whatever arrived on a socket. Checks sizes before allocating. */
export function decodeFrame(buf: Uint8Array, maxParams = MAX_PARAMS, maxHeaderBytes = MAX_HEADER_BYTES): DecodedFrame {
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
  const tensors = checkTensorTable(header, maxParams);
  const floats = tensors.reduce((n, t) => n + sizeOf(t.shape), 0);
  const dataStart = pad4(PREFIX + headerLen);
  const expected = dataStart + floats * 4;
  if (buf.byteLength < expected) {
    throw new FedrxError('E_FRAME_TRUNCATED', `frame has ${buf.byteLength} bytes, header declares ${expected}`);
  }
  if (buf.byteLength > expected) {
    throw new FedrxError('E_FRAME_OVERSIZED', `frame has ${buf.byteLength} bytes, header declares ${expected}`);
  }
  const all = readFloats(buf, dataStart, floats);
  const weights: NamedTensor[] = [];
  let at = 0;
  for (const t of tensors) {
    const n = sizeOf(t.shape);
    weights.push({ name: t.name, shape: t.shape, data: all.subarray(at, at + n) });
    at += n;
  }
  return { header: header as FrameHeader, weights };
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
