// The messages of a secure round (SecAgg+ stages). Coordinator → site: setup, roster, inbox,
// unmask. Site → coordinator: keys, shares, opened, reveal, and the masked update (a uint32 frame).
// Everything from a peer is attacker-controlled until it has passed its schema.

import { Type, type Static } from '@sinclair/typebox';
import { MAX_NEIGHBOURS, SecureParamsSchema } from './params.js';

const V = Type.Literal(1);
const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });
const Hex32 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Signature = Type.String({ pattern: '^[0-9a-f]{128}$' });
const Share = Type.String({ pattern: '^[0-9a-f]{66}$' });
/** A sealed ShareBundle: nonce, two 33-byte shares and the tag, base64. */
const Box = Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9+/=]+$' });
const Round = Type.Integer({ minimum: 1 });
/** The most sites one secure round may have (a ring keeps each site's messages small). */
export const MAX_SECURE_SITES = 20_000;
const SiteList = Type.Array(Id, { maxItems: MAX_SECURE_SITES });
const NeighbourList = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Array(item, { maxItems: MAX_NEIGHBOURS });

export const KeyAdvertSchema = Type.Object(
  {
    siteId: Id,
    /** X25519 key for sealing share boxes. */
    cPk: Hex32,
    /** X25519 key for pairwise mask seeds. */
    sPk: Hex32,
    /** The site's Ed25519 signature over {runId, round, siteId, cPk, sPk} (signing.ts 'secagg-keys'). */
    signature: Signature,
  },
  { additionalProperties: false },
);
export type KeyAdvert = Static<typeof KeyAdvertSchema>;

export const SecaggSetupSchema = Type.Object(
  { type: Type.Literal('secagg-setup'), v: V, runId: Id, round: Round, params: SecureParamsSchema, sites: SiteList },
  { additionalProperties: false },
);
export const SecaggRosterSchema = Type.Object(
  {
    type: Type.Literal('secagg-roster'),
    v: V,
    runId: Id,
    round: Round,
    /** The recipient's neighbours that advertised keys, with their identity keys, and the recipient itself. */
    keys: NeighbourList(Type.Object({ ...KeyAdvertSchema.properties, publicKey: Hex32 }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export const SecaggInboxSchema = Type.Object(
  { type: Type.Literal('secagg-inbox'), v: V, runId: Id, round: Round, boxes: NeighbourList(Type.Object({ from: Id, box: Box }, { additionalProperties: false })) },
  { additionalProperties: false },
);
export const SecaggUnmaskSchema = Type.Object(
  { type: Type.Literal('secagg-unmask'), v: V, runId: Id, round: Round, survivors: SiteList, dropped: SiteList },
  { additionalProperties: false },
);

export const SecaggKeysSchema = Type.Object(
  { type: Type.Literal('secagg-keys'), v: V, runId: Id, round: Round, ...KeyAdvertSchema.properties },
  { additionalProperties: false },
);
export const SecaggSharesSchema = Type.Object(
  {
    type: Type.Literal('secagg-shares'),
    v: V,
    runId: Id,
    round: Round,
    siteId: Id,
    /** SHA-256 of the self-mask seed: what the coordinator checks a rebuilt seed against. */
    selfCommit: Hex32,
    boxes: NeighbourList(Type.Object({ to: Id, box: Box }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
/** Site → coordinator: the inbox is open; the senders of boxes that did not open are left out. */
export const SecaggOpenedSchema = Type.Object(
  {
    type: Type.Literal('secagg-opened'),
    v: V,
    runId: Id,
    round: Round,
    siteId: Id,
    refusedBoxes: NeighbourList(Type.Object({ from: Id, code: Type.String({ maxLength: 64 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
const Revealed = NeighbourList(Type.Object({ of: Id, share: Share }, { additionalProperties: false }));
export const SecaggRevealSchema = Type.Object(
  { type: Type.Literal('secagg-reveal'), v: V, runId: Id, round: Round, siteId: Id, selfShares: Revealed, keyShares: Revealed },
  { additionalProperties: false },
);

/** Site → coordinator (uint32 frame, one vector `masked`): the quantised update, weight and count, masked. */
export const MaskedUpdateHeaderSchema = Type.Object(
  {
    v: V,
    kind: Type.Literal('masked-update'),
    dtype: Type.Literal('uint32'),
    runId: Id,
    round: Round,
    siteId: Id,
    baseModelHash: Hex32,
    /** SHA-256 of the masked bytes, signed like an update's hash (signing.ts updateBody). */
    updateHash: Hex32,
    numExamples: Type.Integer({ minimum: 1 }),
    trainLoss: Type.Number(),
    /** The mask-agreement key of the round this was masked for: a round redone with new keys refuses a stale upload. */
    sPk: Hex32,
    signature: Signature,
    tensors: Type.Array(Type.Object({ name: Type.String(), shape: Type.Array(Type.Integer()) })),
  },
  { additionalProperties: false },
);

export type SecaggSetup = Static<typeof SecaggSetupSchema>;
export type SecaggRoster = Static<typeof SecaggRosterSchema>;
export type SecaggInbox = Static<typeof SecaggInboxSchema>;
export type SecaggUnmask = Static<typeof SecaggUnmaskSchema>;
export type SecaggKeys = Static<typeof SecaggKeysSchema>;
export type SecaggShares = Static<typeof SecaggSharesSchema>;
export type SecaggOpened = Static<typeof SecaggOpenedSchema>;
export type SecaggReveal = Static<typeof SecaggRevealSchema>;
export type MaskedUpdateHeader = Static<typeof MaskedUpdateHeaderSchema>;

export const keysBody = (k: { runId: string; round: number; siteId: string; cPk: string; sPk: string }) => ({ runId: k.runId, round: k.round, siteId: k.siteId, cPk: k.cPk, sPk: k.sPk });
