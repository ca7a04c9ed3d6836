// The ledger's rules, shared by the coordinator, a site's replica and an auditor's CLI:
// what an entry holds, how its hash is computed, and how a chain is verified.

import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { canonicalJson } from './canonical-json.js';
import { ConformalRecordSchema } from './conformal/federated-quantile.js';
import { SignedHeadSchema } from './ledger-head.js';
import { EntryPrivacySchema } from './privacy/entry-privacy.js';
import { SimulationSectionSchema } from './simulation.js';
import { entryBody, sign, statsBody, updateBody, verify } from './signing.js';

const ENTRY_DOMAIN = 'fedrx/ledger-entry/v1\0';
export const GENESIS_PREV_HASH = '0'.repeat(64);

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Signature = Type.String({ pattern: '^[0-9a-f]{128}$' });

export const ParticipantSchema = Type.Object(
  {
    siteId: Type.String({ minLength: 1, maxLength: 128 }),
    numExamples: Type.Integer({ minimum: 1 }),
    updateHash: Hex64,
    /** The site's Ed25519 signature over its contribution (signing.ts updateBody / statsBody). */
    signature: Signature,
  },
  { additionalProperties: false },
);
export type Participant = Static<typeof ParticipantSchema>;

/** A round aggregated securely (shared/secagg/): the protocol's parameters and who is in the sum. */
export const SecureSectionSchema = Type.Object(
  {
    protocol: Type.Literal('secagg+'),
    threshold: Type.Integer({ minimum: 2 }),
    neighbours: Type.Integer({ minimum: 2 }),
    clip: Type.Number({ exclusiveMinimum: 0 }),
    quantBits: Type.Integer({ minimum: 1 }),
    modulusBits: Type.Integer({ minimum: 1 }),
    maxWeight: Type.Integer({ minimum: 1 }),
    /** Sites whose masked updates are in the sum: the participants. */
    included: Type.Array(Type.String({ minLength: 1, maxLength: 128 })),
    /** Sites that dropped after sharing their keys: their masks were removed with the survivors' shares. */
    recovered: Type.Array(Type.String({ minLength: 1, maxLength: 128 })),
    /** Example count over `included`, summed securely. */
    examples: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type SecureSection = Static<typeof SecureSectionSchema>;

/** A round aggregated by a robust rule: what it set aside, so a hospital sees that its update was excluded or clipped, and why. */
export const RobustSectionSchema = Type.Object(
  {
    rule: Type.String({ minLength: 1, maxLength: 128 }),
    excluded: Type.Array(Type.Object({ siteId: Type.String({ minLength: 1, maxLength: 128 }), reason: Type.String({ maxLength: 500 }) }, { additionalProperties: false })),
    clipped: Type.Array(Type.Object({ siteId: Type.String({ minLength: 1, maxLength: 128 }), factor: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false })),
    trimmed: Type.Array(Type.Object({ siteId: Type.String({ minLength: 1, maxLength: 128 }), share: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/**
 * A parent entry's commitment to a participant's own chain (docs/scale.md): a regional
 * coordinator's signed head right after the regional round whose aggregate the region sent up.
 */
export const ChildHeadSchema = Type.Object(
  { siteId: Type.String({ minLength: 1, maxLength: 128 }), head: SignedHeadSchema },
  { additionalProperties: false },
);
export type ChildHead = Static<typeof ChildHeadSchema>;

export const LedgerEntrySchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    prevHash: Hex64,
    runId: Type.String({ minLength: 1, maxLength: 128 }),
    round: Type.Integer({ minimum: 0 }),
    modelHash: Hex64,
    parentModelHash: Type.Union([Hex64, Type.Null()]),
    participants: Type.Array(ParticipantSchema),
    configHash: Hex64,
    /** Round 0 only: hash of the preprocessing fixed from the sites' federated statistics. */
    preprocessingHash: Type.Optional(Hex64),
    /** Rounds aggregated securely only. */
    secure: Type.Optional(SecureSectionSchema),
    /** Rounds aggregated by a robust rule only. */
    robust: Type.Optional(RobustSectionSchema),
    metrics: Type.Record(Type.String(), Type.Number()),
    /**
     * Calibrated prediction intervals: the conformal quantile every prediction of this model is
     * served with (shared/conformal). Absent from entries made before it, and then left out of the
     * hash, so older chains verify unchanged.
     */
    conformal: Type.Optional(ConformalRecordSchema),
    /** Differentially private rounds only: the mechanism and the ε spent (absent before DP existed, so older entries hash as they did). */
    privacy: Type.Optional(EntryPrivacySchema),
    /** Runs made by `fedrx simulate` only: virtual sites, not hospitals (absent otherwise, so other entries hash as they did). */
    simulation: Type.Optional(SimulationSectionSchema),
    /** A hierarchy's parent level only: each participant that is itself a coordinator, by its chain's signed head; at most one per participant, sorted by siteId (absent otherwise, so other entries hash as they did). */
    children: Type.Optional(Type.Array(ChildHeadSchema)),
    createdAt: Type.String({ minLength: 1, maxLength: 64 }),
    /** The Ed25519 public key the coordinator signs with: inside the hash, so it cannot be swapped. */
    coordinatorKey: Hex64,
    entryHash: Hex64,
    /** The coordinator's signature over entryHash: outside the hash, which it signs. */
    coordinatorSignature: Signature,
  },
  { additionalProperties: false },
);
export type LedgerEntry = Static<typeof LedgerEntrySchema>;
export type UnsignedEntry = Omit<LedgerEntry, 'entryHash' | 'coordinatorSignature'>;

/** Domain-separated SHA-256 over the canonical JSON of every field but entryHash. */
export function computeEntryHash(entry: UnsignedEntry): string {
  const body: UnsignedEntry = {
    index: entry.index,
    prevHash: entry.prevHash,
    runId: entry.runId,
    round: entry.round,
    modelHash: entry.modelHash,
    parentModelHash: entry.parentModelHash,
    participants: entry.participants.map((p) => ({ siteId: p.siteId, numExamples: p.numExamples, updateHash: p.updateHash, signature: p.signature })),
    configHash: entry.configHash,
    preprocessingHash: entry.preprocessingHash,
    secure: entry.secure,
    robust: entry.robust,
    metrics: entry.metrics,
    conformal: entry.conformal === undefined ? undefined : { ...entry.conformal },
    privacy: entry.privacy,
    simulation: entry.simulation,
    children: entry.children?.map((c) => ({ siteId: c.siteId, head: { length: c.head.length, headHash: c.head.headHash, recordedAt: c.head.recordedAt, coordinatorKey: c.head.coordinatorKey, signature: c.head.signature } })),
    createdAt: entry.createdAt,
    coordinatorKey: entry.coordinatorKey,
  };
  return sha256Hex(ENTRY_DOMAIN + canonicalJson(body));
}

/**
 * SHA-256 of the text's UTF-8, in hex. node:crypto rather than @noble/hashes: the same digest, ~18×
 * faster here, and an entry naming a thousand sites is ~300 KB that every site's replica hashes.
 */
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Hashes the entry and signs the hash with the coordinator's key (whose public half it names). */
export function sealEntry(entry: UnsignedEntry, coordinatorSecretKey: Uint8Array): LedgerEntry {
  const entryHash = computeEntryHash(entry);
  return { ...entry, entryHash, coordinatorSignature: sign('entry', entryBody(entryHash), coordinatorSecretKey) };
}

/**
 * True when `publicKey` signed this participant's contribution: its statistics in round 0, its
 * update (trained from the entry's parent model) in later rounds.
 */
export function participantSigned(entry: UnsignedEntry, p: Participant, publicKey: string): boolean {
  if (entry.round === 0) {
    return verify('stats', statsBody({ runId: entry.runId, siteId: p.siteId, statsHash: p.updateHash, rows: p.numExamples }), p.signature, publicKey);
  }
  if (entry.parentModelHash === null) return false;
  const body = updateBody({ runId: entry.runId, round: entry.round, siteId: p.siteId, baseModelHash: entry.parentModelHash, updateHash: p.updateHash, numExamples: p.numExamples });
  return verify('update', body, p.signature, publicKey);
}

/** Hash of a run's configuration, as recorded in every entry of that run. */
export function hashConfig(config: unknown): string {
  return sha256Hex('fedrx/run-config/v1\0' + canonicalJson(config));
}

export type ChainCheck =
  | { ok: true; length: number; headHash: string }
  | { ok: false; length: number; badIndex: number; reason: string };

/**
 * Checks one entry against the entry before it (or the genesis when `prev` is null).
 * Returns why it fails, or null.
 */
export function entryProblem(entry: LedgerEntry, position: number, prev: LedgerEntry | null): string | null {
  if (entry.index !== position) return `index is ${entry.index}, expected ${position}`;
  const expectedPrev = prev === null ? GENESIS_PREV_HASH : prev.entryHash;
  if (entry.prevHash !== expectedPrev) return 'prevHash does not match the previous entry';
  let recomputed: string;
  try {
    recomputed = computeEntryHash(entry);
  } catch (e) {
    return `entry cannot be encoded: ${(e as Error).message}`;
  }
  if (recomputed !== entry.entryHash) return 'entryHash does not match the entry contents';
  const childProblem = childrenProblem(entry);
  if (childProblem !== null) return childProblem;
  if (!verify('entry', entryBody(entry.entryHash), entry.coordinatorSignature, entry.coordinatorKey)) {
    return 'coordinatorSignature does not verify under coordinatorKey';
  }
  return null;
}

/** A `children` element naming a site that is not a participant, or one named twice. */
function childrenProblem(entry: LedgerEntry): string | null {
  if (entry.children === undefined) return null;
  const participants = new Set(entry.participants.map((p) => p.siteId));
  const seen = new Set<string>();
  for (const c of entry.children) {
    if (!participants.has(c.siteId)) return `children names ${c.siteId}, which is not a participant`;
    if (seen.has(c.siteId)) return `children names ${c.siteId} twice`;
    seen.add(c.siteId);
  }
  return null;
}

/** Recomputes the whole chain; names the first bad index. `startAfter` lets a replica resume. */
export function verifyChain(entries: Iterable<LedgerEntry>, startAfter: LedgerEntry | null = null): ChainCheck {
  let prev = startAfter;
  let position = startAfter === null ? 0 : startAfter.index + 1;
  for (const entry of entries) {
    const problem = entryProblem(entry, position, prev);
    if (problem !== null) return { ok: false, length: position, badIndex: position, reason: problem };
    prev = entry;
    position++;
  }
  return { ok: true, length: position, headHash: prev === null ? GENESIS_PREV_HASH : prev.entryHash };
}
