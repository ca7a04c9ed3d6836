// A compressed update on the wire (site → coordinator): a float16 frame of the change's halves, or
// a uint32 frame of its sparse words (shared/tensor-codec.ts), whose header says which and carries
// what a plain update's does. Its updateHash is hashCompressed of the payload as sent: the site
// signs those bytes, the ledger names them. Decoding is attacker-controlled: sizes and the header
// are checked here, the payload against the run's model by update-codec.ts.

import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from '../errors.js';
import { hashCompressed } from '../model-hash.js';
import { decodeFrameF16, decodeFrameU32, encodeFrameF16, encodeFrameU32, frameField, MAX_PARAMS } from '../tensor-codec.js';
import { expectSchema, PROTOCOL_VERSION } from '../wire.js';
import type { Payload } from './update-codec.js';

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });
const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const CompressedUpdateHeaderSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    kind: Type.Literal('compressed-update'),
    dtype: Type.Union([Type.Literal('float16'), Type.Literal('uint32')]),
    codec: Type.Union([Type.Literal('float16'), Type.Literal('topk')]),
    runId: Id,
    round: Type.Integer({ minimum: 1 }),
    siteId: Id,
    baseModelHash: Hex64,
    /** hashCompressed(codec, payload): signed like a plain update's hash (signing.ts updateBody). */
    updateHash: Hex64,
    numExamples: Type.Integer(),
    trainLoss: Type.Number(),
    signature: Type.String({ pattern: '^[0-9a-f]{128}$' }),
    tensors: Type.Array(Type.Object({ name: Type.String(), shape: Type.Array(Type.Integer()) })),
  },
  { additionalProperties: false },
);
export type CompressedUpdateHeader = Static<typeof CompressedUpdateHeaderSchema>;

/** The frame's header fields beside the codec, dtype and tensor table. */
export type CompressedUpdateMeta = Omit<CompressedUpdateHeader, 'v' | 'kind' | 'dtype' | 'codec' | 'tensors'>;

const PAYLOAD_NAME = 'delta';

export function encodeCompressedUpdate(meta: CompressedUpdateMeta, payload: Payload): Buffer {
  const header = { v: PROTOCOL_VERSION, kind: 'compressed-update' as const, codec: payload.codec, ...meta };
  return payload.codec === 'float16' ? encodeFrameF16(header, PAYLOAD_NAME, payload.data) : encodeFrameU32(header, PAYLOAD_NAME, payload.data);
}

/** Attacker-controlled `buf`: the header checked against its schema, the payload's bytes against updateHash. */
export function decodeCompressedUpdate(buf: Uint8Array, maxValues = MAX_PARAMS): { header: CompressedUpdateHeader; payload: Payload } {
  // The dtype decides how the frame is read; the schema then holds the codec to it.
  const dtype = frameField(buf, 'dtype') === 'float16' ? 'float16' : 'uint32';
  const frame = dtype === 'float16' ? decodeFrameF16(buf, maxValues) : decodeFrameU32(buf, maxValues);
  const header = expectSchema(CompressedUpdateHeaderSchema, frame.header, 'E_FRAME_HEADER', 'compressed-update header');
  if ((header.codec === 'float16') !== (dtype === 'float16')) {
    throw new FedrxError('E_FRAME_HEADER', `a ${header.codec} update cannot travel in a ${dtype} frame`);
  }
  const payload: Payload = frame.data instanceof Uint16Array ? { codec: 'float16', data: frame.data } : { codec: 'topk', data: frame.data };
  if (hashCompressed(payload.codec, payload.data) !== header.updateHash) throw new FedrxError('E_HASH_MISMATCH', 'updateHash does not match the compressed update bytes');
  return { header, payload };
}
