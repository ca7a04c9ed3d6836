import { Type, type Static } from '@sinclair/typebox';
import { LedgerEntrySchema } from '../../../shared/ledger.js';
import { PageQueryProperties } from './query.js';

export const LedgerQuery = Type.Object(PageQueryProperties, { additionalProperties: false });
export type LedgerQuery = Static<typeof LedgerQuery>;

/** A site's replica as uploaded (attacker-controlled): entries of the ledger's own shape, bounded in number. */
export const ReplicaBody = Type.Object({ entries: Type.Array(LedgerEntrySchema, { maxItems: 100_000 }) }, { additionalProperties: false });
export type ReplicaBody = Static<typeof ReplicaBody>;
