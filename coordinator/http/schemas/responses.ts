// What the REST routes answer, for the OpenAPI description (/docs) and for the test that holds
// real answers to them. Objects stay open (extra fields allowed): a field added by a later
// change is documented when it is added, never dropped from an answer. The answers themselves
// are serialized as they are (app.ts), not through these schemas.

import { Type, type TSchema } from '@sinclair/typebox';
import { LedgerEntrySchema } from '../../../shared/ledger.js';
import { ROLES } from '../../../shared/roles.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const RunStatus = Type.Union(['queued', 'running', 'completed', 'failed', 'cancelled'].map((s) => Type.Literal(s)));

export const ErrorReply = Type.Object({ error: Type.Object({ code: Type.String({ pattern: '^E_[A-Z_]+$' }), message: Type.String() }) });

export const HealthReply = Type.Object({
  ok: Type.Boolean(),
  version: Type.String(),
  readOnly: Type.Boolean(),
  ledger: Type.Object({ length: Type.Integer(), headHash: Nullable(Type.String()) }),
  sitesConnected: Type.Integer(),
});

const SiteOutcome = Type.Object({
  siteId: Type.String(),
  status: Type.Union(['accepted', 'rejected', 'missing', 'failed'].map((s) => Type.Literal(s))),
  code: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  numExamples: Type.Optional(Type.Integer()),
  updateHash: Type.Optional(Type.String()),
  trainLoss: Type.Optional(Type.Number()),
  evalExamples: Type.Optional(Type.Integer()),
  evalLoss: Type.Optional(Type.Number()),
  evalMetric: Type.Optional(Type.Number()),
});

const RoundRow = Type.Object({
  round: Type.Integer(),
  status: Type.Union([Type.Literal('committed'), Type.Literal('failed')]),
  modelHash: Nullable(Hash),
  metrics: Type.Record(Type.String(), Type.Number()),
  error: Nullable(Type.String()),
  ledgerIndex: Nullable(Type.Integer()),
  startedAt: Type.String(),
  endedAt: Type.String(),
  sites: Type.Array(SiteOutcome),
});

const RunCommon = {
  id: Type.String(),
  status: RunStatus,
  study: Type.String(),
  bestRound: Nullable(Type.Integer()),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  endedAt: Nullable(Type.String()),
  error: Nullable(Type.String()),
  stopReason: Nullable(Type.String()),
  cancelRequestedAt: Nullable(Type.String()),
  cancelRequestedBy: Nullable(Type.String()),
};

export const RunReply = Type.Object({
  ...RunCommon,
  metric: Type.String({ description: 'the headline metric as a table heading, e.g. "MAE (mg/week)"' }),
  config: Type.Record(Type.String(), Type.Unknown()),
  configHash: Hash,
  preprocessing: Type.Unknown(),
  rounds: Type.Array(RoundRow),
});

export const RunListReply = Type.Object({
  runs: Type.Array(Type.Object({ ...RunCommon, strategy: Type.String(), roundsDone: Type.Integer(), roundsPlanned: Type.Integer() })),
});

const SiteView = Type.Object({
  id: Type.String(),
  publicKey: Type.String(),
  keyFingerprint: Type.String({ description: 'SHA-256 of the raw public key, first 8 bytes, colon-separated hex' }),
  revoked: Type.Boolean(),
  revokedAt: Nullable(Type.String()),
  connected: Type.Boolean(),
  connectedAt: Nullable(Type.String()),
  backend: Nullable(Type.String()),
  pingMs: Nullable(Type.Number()),
  lastSeenAt: Nullable(Type.String()),
});
export const SiteListReply = Type.Object({ sites: Type.Array(SiteView) });
export const SiteChangeReply = Type.Object({ change: Type.Optional(Type.String()), site: SiteView });

export const LedgerReply = Type.Object({ length: Type.Integer(), headHash: Nullable(Type.String()), entries: Type.Array(LedgerEntrySchema) });
export const LedgerVerifyReply = Type.Object({
  ok: Type.Boolean(),
  length: Type.Integer(),
  badIndex: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  entries: Type.Array(Type.Object({ index: Type.Integer(), endorsed: Type.Boolean() })),
});
export const EndorsementsReply = Type.Object({ entries: Type.Array(Type.Object({ index: Type.Integer() })), disputes: Type.Array(Type.Unknown()) });

const Provenance = { runId: Type.String(), round: Type.Integer(), modelHash: Hash, ledgerIndex: Type.Integer(), entryHash: Type.Optional(Hash) };
export const PredictReply = Type.Object({
  ...Provenance,
  prediction: Type.Union([Type.Number(), Type.String()]),
  unit: Type.Optional(Nullable(Type.String())),
  probabilities: Type.Optional(Type.Record(Type.String(), Type.Number())),
  audit: Type.Optional(Type.Object({ seq: Type.Integer(), at: Type.String(), inputHash: Hash }, { description: 'this request\'s row in the prediction audit log' })),
});
export const PredictManyReply = Type.Object({ ...Provenance, predictions: Type.Array(Type.Object({ index: Type.Integer() })) });
export const ModelInputsReply = Type.Object({ ...Provenance, columns: Type.Array(Type.String()), task: Type.String() });

export const TokenReply = Type.Object({ id: Type.String(), role: Role, label: Nullable(Type.String()), token: Type.String() });
export const TokenListReply = Type.Object({
  tokens: Type.Array(Type.Object({ id: Type.String(), role: Role, label: Nullable(Type.String()), createdAt: Type.String(), revokedAt: Nullable(Type.String()) })),
});
export const TokenRevokedReply = Type.Object({ id: Type.String(), revoked: Type.Boolean() });

export const AuditReply = Type.Object({
  entries: Type.Array(Type.Object({ seq: Type.Integer(), at: Type.String(), tokenId: Type.String(), role: Type.String(), route: Type.String(), runId: Type.String(), round: Type.Integer(), modelHash: Hash, ledgerIndex: Type.Integer(), rows: Type.Integer(), inputHash: Hash })),
});

const FormField = Type.Object({
  column: Type.String(),
  feature: Type.String(),
  kind: Type.String(),
  unit: Type.Optional(Type.String()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  levels: Type.Optional(Type.Array(Type.String())),
  codes: Type.Optional(Type.Array(Type.String())),
  required: Type.Boolean(),
  imputes: Type.Optional(Type.String()),
});
export const ModelFormReply = Type.Object({
  ...Provenance,
  columns: Type.Array(Type.String()),
  task: Type.String(),
  study: Type.String(),
  target: Type.Object({ name: Type.String(), unit: Type.Optional(Type.String()) }),
  fields: Nullable(Type.Array(FormField)),
});

export const LedgerDiffReply = Type.Object({
  leftLength: Type.Integer({ description: 'entries in the uploaded replica' }),
  rightLength: Type.Integer({ description: "entries in the coordinator's ledger" }),
  commonPrefix: Type.Integer(),
  firstDifference: Nullable(Type.Object({ index: Type.Integer(), fields: Type.Array(Type.Object({ field: Type.String(), left: Type.String(), right: Type.String() })) })),
  consistent: Type.Boolean(),
});
