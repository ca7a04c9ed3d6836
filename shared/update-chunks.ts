// An update too large for one frame travels as a stream on the same WebSocket: a signed stream
// header (a FRX1 frame with no data: the update's header fields, its tensor table, and the SHA-256
// of every chunk), then numbered chunk frames, each a FRX1 frame of one float32 vector: the next
// `chunkValues` values of the update's tensors laid end to end in table order. The site signs the
// update as in one frame (`signature`, over updateBody: what the ledger records) and the stream
// (`streamSignature`, over streamBody: the chunk hashes), so every chunk is checked before it is
// used and the whole update is still checked against its updateHash at the end.

import { createHash, randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from './errors.js';
import { sign, streamBody, type KeyPair } from './signing.js';
import { decodeFrame, encodeFrame, MAX_PARAMS, MAX_RANK, MAX_TENSORS } from './tensor-codec.js';
import { sizeOf, totalParams, type TensorSpec, type Weights } from './tensors.js';
import { expectSchema, UpdateHeaderSchema, type UpdateHeader } from './wire.js';

/** Updates whose one frame is larger than this go as a stream (the agent's `--chunk-mb`). */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * At most this many chunks: the header's hash list (~34 KB) then fits in the room a run's frame
 * cap leaves for an update's header (frame-caps.ts UPDATE_HEADER_ALLOWANCE, 64 KB).
 */
export const MAX_STREAM_CHUNKS = 512;

const U = UpdateHeaderSchema.properties;
const StreamId = Type.String({ pattern: '^[0-9a-f]{32}$' });
const UpdateTable = Type.Array(
  Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), shape: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: MAX_RANK }) }, { additionalProperties: false }),
  { maxItems: MAX_TENSORS },
);

/** Site → coordinator: opens a chunked update. Its FRX1 tensor table is empty: the update's is `update`. */
export const UpdateStreamHeaderSchema = Type.Object(
  {
    v: U.v,
    kind: Type.Literal('update-stream'),
    streamId: StreamId,
    runId: U.runId,
    round: U.round,
    siteId: U.siteId,
    baseModelHash: U.baseModelHash,
    updateHash: U.updateHash,
    numExamples: U.numExamples,
    trainLoss: U.trainLoss,
    signature: U.signature,
    childHead: U.childHead,
    update: UpdateTable,
    totalValues: Type.Integer({ minimum: 1, maximum: MAX_PARAMS }),
    chunkValues: Type.Integer({ minimum: 1, maximum: MAX_PARAMS }),
    chunkHashes: Type.Array(U.updateHash, { minItems: 1, maxItems: MAX_STREAM_CHUNKS }),
    /** Over signing.ts streamBody. */
    streamSignature: U.signature,
    tensors: Type.Array(Type.Unknown(), { maxItems: 0 }),
  },
  { additionalProperties: false },
);
export type UpdateStreamHeader = Static<typeof UpdateStreamHeaderSchema>;

/** Site → coordinator: chunk `index` of stream `streamId`, one float32 vector named `chunk`. */
export const UpdateChunkHeaderSchema = Type.Object(
  {
    v: U.v,
    kind: Type.Literal('update-chunk'),
    streamId: StreamId,
    runId: U.runId,
    round: U.round,
    index: Type.Integer({ minimum: 0, maximum: MAX_STREAM_CHUNKS }),
    tensors: Type.Tuple([Type.Object({ name: Type.Literal('chunk'), shape: Type.Tuple([Type.Integer({ minimum: 1 })]) }, { additionalProperties: false })]),
  },
  { additionalProperties: false },
);
export type UpdateChunkHeader = Static<typeof UpdateChunkHeaderSchema>;

export const chunkCount = (totalValues: number, chunkValues: number): number => Math.ceil(totalValues / chunkValues);

/** How many values chunk `index` of a stream carries (the last one the remainder). */
export const chunkLength = (h: { totalValues: number; chunkValues: number }, index: number): number =>
  Math.min(h.chunkValues, h.totalValues - index * h.chunkValues);

/** SHA-256 of a chunk's float32 bytes (little-endian, as they travel). */
export function chunkHash(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

/** The part of each tensor that flat values [offset, offset + length) cover: tensor k, from `from`, `count` values, at `at` in the run. */
export function* segments(sizes: readonly number[], offset: number, length: number): Generator<{ tensor: number; from: number; count: number; at: number }> {
  let base = 0;
  let at = 0;
  for (let k = 0; k < sizes.length && at < length; k++) {
    const size = sizes[k]!;
    const from = offset + at - base;
    if (from < size) {
      const count = Math.min(size - from, length - at);
      yield { tensor: k, from, count, at };
      at += count;
    }
    base += size;
  }
}

/** Attacker-controlled: a stream header frame, checked by schema and for self-consistency before anything is kept for it. */
export function decodeStreamHeader(buf: Uint8Array): UpdateStreamHeader {
  const { header: raw } = decodeFrame(buf, 0);
  const h = expectSchema(UpdateStreamHeaderSchema, raw, 'E_FRAME_HEADER', 'update-stream header');
  const total = totalParams(h.update);
  if (total !== h.totalValues) throw new FedrxError('E_FRAME_HEADER', `update-stream header declares ${h.totalValues} values, its tensor table holds ${total}`);
  const count = chunkCount(h.totalValues, h.chunkValues);
  if (count !== h.chunkHashes.length) throw new FedrxError('E_FRAME_HEADER', `update-stream header lists ${h.chunkHashes.length} chunk hashes for ${count} chunks`);
  return h;
}

/** Attacker-controlled: a chunk frame of at most `maxValues` values (the open stream's chunk size), sizes checked before allocating. */
export function decodeChunkFrame(buf: Uint8Array, maxValues: number): { header: UpdateChunkHeader; values: Float32Array } {
  const { header, weights } = decodeFrame(buf, maxValues);
  return { header: expectSchema(UpdateChunkHeaderSchema, header, 'E_FRAME_HEADER', 'update-chunk header'), values: weights[0]!.data };
}

/** Values [offset, offset + out.length) of `weights` laid end to end, copied into `out`. */
export function readFlat(weights: Weights, offset: number, out: Float32Array): Float32Array {
  for (const s of segments(weights.map((t) => t.data.length), offset, out.length)) out.set(weights[s.tensor]!.data.subarray(s.from, s.from + s.count), s.at);
  return out;
}

/** A site's update as a stream: the header frame, and each chunk frame made when it is asked for (one at a time in memory). */
export interface UpdateStream {
  header: Buffer;
  chunkCount: number;
  chunk(index: number): Buffer;
}

/**
 * The stream of an update whose one-frame header is `meta` (signed as for one frame), cut into
 * chunks of `wantValues` values (larger when that would make more than MAX_STREAM_CHUNKS) and
 * signed by `keys`. Hashes every chunk first (one pass, one chunk buffer), so the header can list them.
 */
export function updateStream(meta: Omit<UpdateHeader, 'tensors'>, weights: Weights, keys: KeyPair, wantValues: number): UpdateStream {
  const table: TensorSpec[] = weights.map((t) => ({ name: t.name, shape: [...t.shape] }));
  const totalValues = weights.reduce((n, t) => n + sizeOf(t.shape), 0);
  const chunkValues = Math.max(wantValues, Math.ceil(totalValues / MAX_STREAM_CHUNKS));
  const count = chunkCount(totalValues, chunkValues);
  const buffer = new Float32Array(Math.min(chunkValues, totalValues));
  const dims = { totalValues, chunkValues };
  const values = (i: number): Float32Array => readFlat(weights, i * chunkValues, buffer.subarray(0, chunkLength(dims, i)));
  const chunkHashes = Array.from({ length: count }, (_, i) => chunkHash(values(i)));
  const streamId = randomBytes(16).toString('hex');
  const body = { streamId, runId: meta.runId, round: meta.round, siteId: meta.siteId, updateHash: meta.updateHash, totalValues, chunkValues, chunkHashes };
  const header: Omit<UpdateStreamHeader, 'tensors'> = {
    ...meta,
    kind: 'update-stream',
    streamId,
    update: table,
    totalValues,
    chunkValues,
    chunkHashes,
    streamSignature: sign('update-stream', streamBody(body), keys.secretKey),
  };
  expectSchema(UpdateStreamHeaderSchema, { ...header, tensors: [] }, 'E_INTERNAL', 'outgoing update-stream header');
  return {
    header: encodeFrame(header, []),
    chunkCount: count,
    chunk: (index) => encodeFrame({ v: meta.v, kind: 'update-chunk', streamId, runId: meta.runId, round: meta.round, index }, [{ name: 'chunk', shape: [chunkLength(dims, index)], data: values(index) }]),
  };
}
