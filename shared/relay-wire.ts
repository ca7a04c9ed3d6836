// What a relay run (a regional coordinator driven step by step by its parent, docs/scale.md)
// answers its caller: the region's aggregate as a binary frame, and the pooled statistics and
// evaluation as JSON. The caller (the regional agent) parses these, attacker-controlled, here.

import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from './errors.js';
import { FeatureStatsSchema } from './feature-stats.js';
import { SignedHeadSchema } from './ledger-head.js';
import { hashWeights } from './model-hash.js';
import { decodeFrame, type DecodedFrame } from './tensor-codec.js';
import { CalibrationSketchSchema, EvalSumsSchema, GroupSumsSchema, expectSchema, PROTOCOL_VERSION } from './wire.js';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Count = Type.Integer({ minimum: 0 });
const TensorTable = Type.Array(Type.Object({ name: Type.String(), shape: Type.Array(Type.Integer()) }));

/** Header of POST /v1/runs/:id/relay/train's answer; the frame's tensors are the region's aggregate. */
export const RelayUpdateHeaderSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    kind: Type.Literal('relay-update'),
    runId: Type.String({ minLength: 1, maxLength: 128 }),
    round: Type.Integer({ minimum: 1 }),
    /** hashWeights of the frame's tensors: the regional entry's modelHash. */
    modelHash: Hex64,
    /** Σ of the accepted sites' example counts: the region's weight in its parent's mean. */
    numExamples: Type.Integer({ minimum: 1 }),
    /** Example-weighted mean of the accepted sites' training losses. */
    trainLoss: Type.Number(),
    sites: Type.Integer({ minimum: 1 }),
    /** The regional coordinator's signed ledger head right after it committed this round. */
    head: SignedHeadSchema,
    tensors: TensorTable,
  },
  { additionalProperties: false },
);
export type RelayUpdateHeader = Static<typeof RelayUpdateHeaderSchema>;

/** Checked like an update frame: version, header schema, and the weights against their declared hash. */
export function decodeRelayUpdate(buf: Uint8Array, maxParams?: number): DecodedFrame & { header: RelayUpdateHeader } {
  const frame = decodeFrame(buf, maxParams);
  const v = (frame.header as { v?: unknown }).v;
  if (v !== PROTOCOL_VERSION) throw new FedrxError('E_PROTOCOL_VERSION', `protocol version ${String(v)} is not supported (want ${PROTOCOL_VERSION})`);
  const header = expectSchema(RelayUpdateHeaderSchema, frame.header, 'E_FRAME_HEADER', 'relay-update header');
  if (hashWeights(frame.weights) !== header.modelHash) throw new FedrxError('E_HASH_MISMATCH', 'the relay update\'s weights do not hash to its modelHash');
  return { header, weights: frame.weights };
}

/** POST /v1/runs/:id/relay/statistics: the merged statistics of the accepted sites' training rows. */
export const RelayStatisticsSchema = Type.Object(
  { stats: FeatureStatsSchema, sites: Type.Integer({ minimum: 1 }), head: SignedHeadSchema },
  { additionalProperties: false },
);
export type RelayStatistics = Static<typeof RelayStatisticsSchema>;

/**
 * POST /v1/runs/:id/relay/evaluate: what one site holding all the region's held-out rows would
 * answer (an eval-result's figures), and how many sites they came from.
 */
export const RelayEvaluationSchema = Type.Object(
  {
    numExamples: Count,
    loss: Type.Number(),
    sums: EvalSumsSchema,
    validation: Type.Optional(Type.Object({ numExamples: Count, loss: Type.Number(), sums: EvalSumsSchema }, { additionalProperties: false })),
    groups: Type.Optional(Type.Array(GroupSumsSchema, { maxItems: 256 })),
    calibration: Type.Optional(CalibrationSketchSchema),
    sites: Count,
  },
  { additionalProperties: false },
);
export type RelayEvaluation = Static<typeof RelayEvaluationSchema>;
