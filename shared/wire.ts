// Every message between a site agent and the coordinator. Control messages are JSON text frames;
// weights travel as binary frames (shared/tensor-codec.ts) whose header is checked here too.
// Everything parsed here is attacker-controlled until it has passed its schema.

import { Type, type Static, type TObject, type TSchema, type TUnion } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AUC_BINS, MAX_AUC_CLASSES } from './auc.js';
import { CLASSIFICATION_LAYOUT, REGRESSION_LAYOUT, sketchLength } from './conformal/score-sketch.js';
import { ERROR_CODE_LIST, FedrxError, type ErrorCode } from './errors.js';
import { LedgerEntrySchema } from './ledger.js';
import { SignedHeadSchema } from './ledger-head.js';
import { FeatureStatsSchema } from './feature-stats.js';
import { MAX_FOLDS, TaskConfigSchema } from './run-config.js';
import { SecaggInboxSchema, SecaggKeysSchema, SecaggOpenedSchema, SecaggRevealSchema, SecaggRosterSchema, SecaggSetupSchema, SecaggSharesSchema, SecaggUnmaskSchema } from './secagg/wire.js';
import { StudySchema } from './study.js';
import { decodeFrame, decodeFrame64, MAX_PARAMS, MAX_TASK_HEADER_BYTES, type DecodedFrame } from './tensor-codec.js';
import type { NamedTensor64 } from './tensors.js';
import { TaskDpSchema } from './privacy/dp-settings.js';

export const PROTOCOL_VERSION = 1;
export const AGENT_PATH = '/v1/agents';

const V = Type.Literal(PROTOCOL_VERSION);
const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Signature = Type.String({ pattern: '^[0-9a-f]{128}$' });
const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });
// A code from the peer is one of ours or the message is refused (E_BAD_MESSAGE): nothing unknown
// reaches a round's outcomes, the disputes table or a log line as if it were a code.
const Code = Type.Union(ERROR_CODE_LIST.map((c) => Type.Literal(c)));
const Finite = Type.Number();
const TensorTable = Type.Array(Type.Object({ name: Type.String(), shape: Type.Array(Type.Integer()) }));

// ---- JSON control messages ----------------------------------------------------------------

/** The site's answer to the coordinator's challenge: its Ed25519 signature over the nonce. */
export const HelloSchema = Type.Object(
  {
    type: Type.Literal('hello'),
    v: Type.Integer(),
    siteId: Id,
    nonce: Hex64,
    /** Over signing.ts helloBody(siteId, nonce, coordinatorKey). */
    signature: Signature,
    replica: Type.Object({ length: Type.Integer({ minimum: 0 }), headHash: Hex64 }),
    backend: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });

const AucCountTable = Type.Array(Type.Array(Count, { maxItems: AUC_BINS }), { maxItems: MAX_AUC_CLASSES });

/** Sums over a site's held-out rows, so global metrics are exact: never per-patient values. */
export const EvalSumsSchema = Type.Union([
  Type.Object(
    { n: Count, absErr: Type.Number({ minimum: 0 }), within20: Count, sqErr: Type.Number({ minimum: 0 }), sumY: Finite, sumY2: Type.Number({ minimum: 0 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      n: Count,
      correct: Count,
      /** Only when the study reports AUC: per class, held-out rows counted by bin of predicted probability (shared/auc.ts). */
      auc: Type.Optional(
        Type.Object(
          { pos: AucCountTable, neg: AucCountTable },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
]);

/**
 * The site's calibration scores as counts over the task's fixed bins (shared/conformal), never a
 * row's score. Attacker-controlled: the length is bounded here, before anything is allocated; the
 * evaluation phase checks the exact length, that counts are ≥ 0 and that they add up to numExamples
 * (E_BAD_SKETCH, so a bad sketch is refused with its own code rather than as a malformed message).
 */
export const CalibrationSketchSchema = Type.Object(
  {
    numExamples: Count,
    counts: Type.Array(Type.Integer(), { maxItems: Math.max(sketchLength(REGRESSION_LAYOUT), sketchLength(CLASSIFICATION_LAYOUT)) }),
    /** A region's sketch: the sites with calibration rows it pools (absent: 1), each counted in the quantile's rank as if it had answered itself. */
    sites: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type CalibrationSketch = Static<typeof CalibrationSketchSchema>;

/** Held-out sums of the rows of one level of the study's groupBy feature (e.g. one ancestry). */
export const GroupSumsSchema = Type.Object({ level: Type.String({ maxLength: 256 }), sums: EvalSumsSchema }, { additionalProperties: false });
export type GroupSums = Static<typeof GroupSumsSchema>;

export const EvalResultSchema = Type.Object(
  {
    type: Type.Literal('eval-result'),
    v: V,
    runId: Id,
    round: Type.Integer({ minimum: 0 }),
    modelHash: Hex64,
    numExamples: Count,
    /** Mean loss of the model on the held-out rows (model space). */
    loss: Finite,
    sums: EvalSumsSchema,
    /** The same over the site's validation part, when the study has one: what chooses the best round. */
    validation: Type.Optional(Type.Object({ numExamples: Count, loss: Finite, sums: EvalSumsSchema }, { additionalProperties: false })),
    /** With a study groupBy: the held-out sums per level present at the site (one per level at most; they add up to numExamples). */
    groups: Type.Optional(Type.Array(GroupSumsSchema, { maxItems: 256 })),
    /** Scores of the site's calibration part (its validation part when it has one), binned. */
    calibration: Type.Optional(CalibrationSketchSchema),
  },
  { additionalProperties: false },
);

/** Site → coordinator: counts, sums and level counts of the site's training rows. */
export const StatsReportSchema = Type.Object(
  {
    type: Type.Literal('stats-report'),
    v: V,
    runId: Id,
    stats: FeatureStatsSchema,
    /** Over signing.ts statsBody: the site stands by these statistics in the ledger. */
    signature: Signature,
  },
  { additionalProperties: false },
);

/** Site → coordinator: the site vouches for a ledger entry it checked (signing.ts endorsementBody). */
export const EndorsementSchema = Type.Object(
  {
    type: Type.Literal('endorsement'),
    v: V,
    index: Type.Integer({ minimum: 0 }),
    entryHash: Hex64,
    signature: Signature,
  },
  { additionalProperties: false },
);

/** Site → coordinator: the site refuses an entry or the whole chain, and says why, before leaving. */
export const DisputeSchema = Type.Object(
  {
    type: Type.Literal('dispute'),
    v: V,
    index: Type.Integer({ minimum: 0 }),
    code: Code,
    reason: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);

export const TaskErrorSchema = Type.Object(
  {
    type: Type.Literal('task-error'),
    v: V,
    runId: Id,
    round: Type.Integer({ minimum: 0 }),
    code: Code,
    message: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);

export const AgentMessageSchema = Type.Union([
  HelloSchema,
  EvalResultSchema,
  TaskErrorSchema,
  StatsReportSchema,
  EndorsementSchema,
  DisputeSchema,
  SecaggKeysSchema,
  SecaggSharesSchema,
  SecaggOpenedSchema,
  SecaggRevealSchema,
]);

/** Coordinator → site, first frame on every socket: prove who you are by signing this nonce. */
export const ChallengeSchema = Type.Object({
  type: Type.Literal('challenge'),
  v: V,
  nonce: Hex64,
  /** The coordinator's ledger-signing public key; the site pins it on first contact. */
  coordinatorKey: Hex64,
  expiresInSec: Type.Integer({ minimum: 1 }),
});

export const WelcomeSchema = Type.Object({
  type: Type.Literal('welcome'),
  v: V,
  siteId: Id,
  ledger: Type.Object({ length: Type.Integer(), headHash: Hex64 }),
  /** The same head, signed by the coordinator: the site keeps it, so a later, shorter ledger is provably cut. */
  head: Type.Optional(SignedHeadSchema),
});

export const LedgerEntriesSchema = Type.Object({
  type: Type.Literal('ledger-entries'),
  v: V,
  entries: Type.Array(LedgerEntrySchema),
});

export const ErrorMessageSchema = Type.Object({
  type: Type.Literal('error'),
  v: V,
  code: Code,
  message: Type.String(),
  runId: Type.Optional(Type.String()),
  round: Type.Optional(Type.Integer()),
});

/** Coordinator → site: report statistics of your rows for this run's study (round 0). */
export const StatsRequestSchema = Type.Object({
  type: Type.Literal('stats-request'),
  v: V,
  runId: Id,
  study: StudySchema,
});

/**
 * Coordinator → site: send the factored sufficient statistics of your training rows for an exact
 * fit (shared/exact/gram-factor.ts), one block per validation fold; answered by an exact-stats frame.
 */
export const ExactRequestSchema = Type.Object({
  type: Type.Literal('exact-request'),
  v: V,
  runId: Id,
  round: Type.Integer({ minimum: 1 }),
  /** The model the fit replaces: the site signs its statistics against it, as an update. */
  baseModelHash: Hex64,
  folds: Type.Integer({ minimum: 1, maximum: MAX_FOLDS }),
  /**
   * 'factors': one exact-stats frame. 'products' (wide data): an exact-product frame with X̃ᵀy
   * now (step 0), then one per exact-product-request, X̃ᵀX̃·p, for the coordinator's CG solve.
   * 'newton' (binary logistic): exact-product frames of Newton terms (shared/exact/logistic.ts) at
   * β = 0 now, then at each requested β.
   */
  mode: Type.Union([Type.Literal('factors'), Type.Literal('products'), Type.Literal('newton')]),
  config: TaskConfigSchema,
});

/** Most ledger indexes one endorsement request names; older gaps are asked for on a later connection. */
export const MAX_ENDORSEMENT_REQUEST = 1000;

/**
 * Coordinator → site, after the welcome: entries this site took part in whose endorsement by it the
 * coordinator lacks (lost in a crash, say). The site re-sends what it kept, or checks and endorses.
 */
export const EndorsementRequestSchema = Type.Object({
  type: Type.Literal('endorsement-request'),
  v: V,
  indexes: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: MAX_ENDORSEMENT_REQUEST }),
});

export const CoordinatorMessageSchema = Type.Union([
  ChallengeSchema,
  WelcomeSchema,
  LedgerEntriesSchema,
  ErrorMessageSchema,
  StatsRequestSchema,
  EndorsementRequestSchema,
  ExactRequestSchema,
  SecaggSetupSchema,
  SecaggRosterSchema,
  SecaggInboxSchema,
  SecaggUnmaskSchema,
]);

export type Hello = Static<typeof HelloSchema>;
export type EvalResult = Static<typeof EvalResultSchema>;
export type TaskError = Static<typeof TaskErrorSchema>;
export type EvalSums = Static<typeof EvalSumsSchema>;
export type StatsReport = Static<typeof StatsReportSchema>;
export type StatsRequest = Static<typeof StatsRequestSchema>;
export type ExactRequest = Static<typeof ExactRequestSchema>;
export type EndorsementRequest = Static<typeof EndorsementRequestSchema>;
export type Endorsement = Static<typeof EndorsementSchema>;
export type Dispute = Static<typeof DisputeSchema>;
export type Challenge = Static<typeof ChallengeSchema>;
export type AgentMessage = Static<typeof AgentMessageSchema>;
export type Welcome = Static<typeof WelcomeSchema>;
export type LedgerEntries = Static<typeof LedgerEntriesSchema>;
export type ErrorMessage = Static<typeof ErrorMessageSchema>;
export type CoordinatorMessage = Static<typeof CoordinatorMessageSchema>;

// ---- binary frame headers -----------------------------------------------------------------

/** Coordinator → site: train from this global model (kind 'train') or evaluate it ('evaluate'). */
export const TaskHeaderSchema = Type.Object({
  v: V,
  kind: Type.Union([Type.Literal('train'), Type.Literal('evaluate')]),
  runId: Id,
  round: Type.Integer({ minimum: 0 }),
  modelHash: Hex64,
  config: TaskConfigSchema,
  /** Train only: answer with a masked update for this round's secure sum (shared/secagg/), not a plain one. */
  secure: Type.Optional(Type.Literal(true)),
  /** Train requests of a DP run: clip the change and add this noise before signing (shared/privacy/dp-settings.ts). */
  dp: Type.Optional(TaskDpSchema),
  tensors: TensorTable,
});

/** Site → coordinator: the locally trained weights. */
export const UpdateHeaderSchema = Type.Object(
  {
    v: V,
    kind: Type.Literal('update'),
    runId: Id,
    round: Type.Integer({ minimum: 0 }),
    siteId: Id,
    baseModelHash: Hex64,
    updateHash: Hex64,
    numExamples: Type.Integer(),
    trainLoss: Finite,
    /** Over signing.ts updateBody: binds the site to this update, for this run, round and base model. */
    signature: Signature,
    /**
     * A regional agent's update only: its regional coordinator's signed head right after the
     * regional round that made this update. Outside the signed body: it is bound by content (the
     * regional entry at the head has modelHash = updateHash), checked by shared/hierarchy/descent.ts.
     */
    childHead: Type.Optional(SignedHeadSchema),
    tensors: TensorTable,
  },
  { additionalProperties: false },
);

/** Site → coordinator: float64 factors, tensor `fold<i>` of shape [min(foldRows[i], d+2), d+2]. */
export const ExactStatsHeaderSchema = Type.Object(
  {
    v: V,
    kind: Type.Literal('exact-stats'),
    dtype: Type.Literal('float64'),
    runId: Id,
    round: Type.Integer({ minimum: 1 }),
    siteId: Id,
    baseModelHash: Hex64,
    /** hashStatistics64 of the tensors, signed like an update's hash (signing.ts updateBody). */
    updateHash: Hex64,
    numExamples: Type.Integer({ minimum: 1 }),
    foldRows: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: MAX_FOLDS }),
    signature: Signature,
    tensors: TensorTable,
  },
  { additionalProperties: false },
);
export type ExactStatsHeader = Static<typeof ExactStatsHeaderSchema>;

/** Coordinator → site (float64 frame, tensor `p` [d+1]): answer with X̃ᵀX̃·p, or the Newton terms at β = p. */
export const ExactProductRequestHeaderSchema = Type.Object(
  {
    v: V,
    kind: Type.Literal('exact-product-request'),
    dtype: Type.Literal('float64'),
    runId: Id,
    round: Type.Integer({ minimum: 1 }),
    step: Type.Integer({ minimum: 1 }),
    tensors: TensorTable,
  },
  { additionalProperties: false },
);
export type ExactProductRequestHeader = Static<typeof ExactProductRequestHeaderSchema>;

/**
 * Site → coordinator (float64, tensor `v` [d+1]): step 0 X̃ᵀy (and `yty`), step i X̃ᵀX̃·p_i.
 * updateHash chains every answer so far (shared/exact/transcript.ts); the last one is what the
 * site stands by in the ledger.
 */
export const ExactProductHeaderSchema = Type.Object(
  {
    v: V,
    kind: Type.Literal('exact-product'),
    dtype: Type.Literal('float64'),
    runId: Id,
    round: Type.Integer({ minimum: 1 }),
    step: Type.Integer({ minimum: 0 }),
    siteId: Id,
    baseModelHash: Hex64,
    updateHash: Hex64,
    numExamples: Type.Integer({ minimum: 1 }),
    signature: Signature,
    tensors: TensorTable,
  },
  { additionalProperties: false },
);
export type ExactProductHeader = Static<typeof ExactProductHeaderSchema>;

export type TaskHeader = Static<typeof TaskHeaderSchema>;
export type UpdateHeader = Static<typeof UpdateHeaderSchema>;

// ---- parsing ------------------------------------------------------------------------------

const compiled = new Map<TSchema, TypeCheck<TSchema>>();
function checker<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = compiled.get(schema);
  if (c === undefined) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c as TypeCheck<T>;
}

/** Validates `value` against `schema`, or throws `code` naming the first offending path. */
export function expectSchema<T extends TSchema>(schema: T, value: unknown, code: ErrorCode, what: string): Static<T> {
  const c = checker(schema);
  if (c.Check(value)) return value;
  const first = c.Errors(value).First();
  const where = first === undefined ? '' : ` at ${first.path || '/'}: ${first.message}`;
  throw new FedrxError(code, `${what} is invalid${where}`);
}

/**
 * A message is checked against the union of its direction's messages; when it fails, the member
 * its `type` names says which field is wrong ("task-error message is invalid at /code: …").
 */
function expectMessage<T extends TUnion<TObject[]>>(union: T, value: unknown): Static<T> {
  if (checker(union).Check(value)) return value;
  const type = (value as { type?: unknown } | null)?.type;
  const member = union.anyOf.find((m) => m.properties.type?.const === type);
  const named = typeof type === 'string' ? JSON.stringify(type.slice(0, 32)) : typeof type;
  if (member === undefined) throw new FedrxError('E_BAD_MESSAGE', `message type ${named} is unknown`);
  expectSchema(member, value, 'E_BAD_MESSAGE', `${named} message`);
  return expectSchema(union, value, 'E_BAD_MESSAGE', 'message');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new FedrxError('E_BAD_JSON', 'text frame is not valid JSON');
  }
}

function checkVersion(value: unknown): void {
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof value === 'object' && value !== null && v !== PROTOCOL_VERSION) {
    throw new FedrxError('E_PROTOCOL_VERSION', `protocol version ${String(v)} is not supported (want ${PROTOCOL_VERSION})`);
  }
}

/** `maxChars`, when given, caps each message type's length, checked before its schema. */
export function parseAgentMessage(text: string, maxChars?: (type: unknown) => number): AgentMessage {
  const value = parseJson(text);
  checkVersion(value);
  if (maxChars !== undefined) {
    const type = (value as { type?: unknown } | null)?.type;
    const cap = maxChars(type);
    if (text.length > cap) throw new FedrxError('E_FRAME_OVERSIZED', `a ${typeof type === 'string' ? type.slice(0, 32) : 'untyped'} message of ${text.length} characters exceeds ${cap}`);
  }
  return expectMessage(AgentMessageSchema, value);
}

export function parseCoordinatorMessage(text: string): CoordinatorMessage {
  const value = parseJson(text);
  checkVersion(value);
  return expectMessage(CoordinatorMessageSchema, value);
}

export function decodeUpdateFrame(buf: Uint8Array, maxParams?: number): DecodedFrame & { header: UpdateHeader } {
  const frame = decodeFrame(buf, maxParams);
  checkVersion(frame.header);
  const header = expectSchema(UpdateHeaderSchema, frame.header, 'E_FRAME_HEADER', 'update header');
  return { header, weights: frame.weights };
}

/** A float64 frame (shared/tensor-codec.ts) whose header must pass `schema`: the exact fits' frames. */
export function decodeFloat64Frame<T extends TSchema>(schema: T, buf: Uint8Array, what: string, maxValues?: number): { header: Static<T>; tensors: NamedTensor64[] } {
  const frame = decodeFrame64(buf, maxValues);
  checkVersion(frame.header);
  return { header: expectSchema(schema, frame.header, 'E_FRAME_HEADER', what), tensors: frame.tensors };
}

export const decodeExactStatsFrame = (buf: Uint8Array, maxValues?: number) => decodeFloat64Frame(ExactStatsHeaderSchema, buf, 'exact-stats header', maxValues);
export const decodeExactProductFrame = (buf: Uint8Array, maxValues?: number) => decodeFloat64Frame(ExactProductHeaderSchema, buf, 'exact-product header', maxValues);
export const decodeExactProductRequest = (buf: Uint8Array, maxValues?: number) => decodeFloat64Frame(ExactProductRequestHeaderSchema, buf, 'exact-product-request header', maxValues);

export function decodeTaskFrame(buf: Uint8Array): DecodedFrame & { header: TaskHeader } {
  const frame = decodeFrame(buf, MAX_PARAMS, MAX_TASK_HEADER_BYTES);
  checkVersion(frame.header);
  const header = expectSchema(TaskHeaderSchema, frame.header, 'E_FRAME_HEADER', 'task header');
  return { header, weights: frame.weights };
}

export function messageText(msg: AgentMessage | CoordinatorMessage): string {
  return JSON.stringify(msg);
}

export function errorMessage(code: ErrorCode, message: string, ref?: { runId: string; round: number }): ErrorMessage {
  return { type: 'error', v: PROTOCOL_VERSION, code, message, ...(ref ?? {}) };
}
