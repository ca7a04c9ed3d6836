import type { FastifyInstance } from 'fastify';
import type { Endorsements } from '../../trust/endorsements.js';
import { readHeadFile } from '../../store/head-file.js';
import { auditLedger, auditVerdict } from '../../trust/ledger-audit.js';
import { LedgerQuery, ReplicaBody } from '../schemas/ledger.js';
import { diffChains } from '../../../shared/ledger-diff.js';
import type { Store } from '../../store/store.js';
import { EndorsementsReply, ErrorReply, LedgerDiffReply, LedgerReply, LedgerVerifyReply } from '../schemas/responses.js';

/** `headFile`: the signed head recorded beside the database, checked by the full audit. */
export function ledgerRoutes(app: FastifyInstance, store: Store, endorsements: Endorsements, headFile: string | null = null): void {
  const readers = { roles: ['auditor', 'data-scientist'] as const };
  app.get('/v1/ledger', { schema: { querystring: LedgerQuery, response: { 200: LedgerReply } }, config: readers }, async (req) => {
    const q = req.query as LedgerQuery;
    const head = store.ledger.head();
    return { length: head.length, headHash: head.headHash, entries: store.ledger.list(q.from ?? 0, q.limit ?? 1000) };
  });

  /** Hashes, links, coordinator and participant signatures, endorsements: verdict plus per-entry detail. */
  app.get('/v1/ledger/verify', { schema: { response: { 200: LedgerVerifyReply } }, config: readers }, async () => {
    const audit = auditLedger(store, headFile === null ? undefined : { where: headFile, head: readHeadFile(headFile) });
    return { ...auditVerdict(audit), entries: audit.entries };
  });

  /** Endorsement status per entry, and what sites disputed. */
  app.get('/v1/ledger/endorsements', { schema: { querystring: LedgerQuery, response: { 200: EndorsementsReply } }, config: readers }, async (req) => {
    const q = req.query as LedgerQuery;
    return { entries: endorsements.statuses(store.ledger.list(q.from ?? 0, q.limit ?? 1000)), disputes: store.endorsements.disputes() };
  });

  /** Where a site's replica (its ledger.jsonl, uploaded by an auditor) parts from this ledger. Reads only. */
  app.post('/v1/ledger/diff', { schema: { body: ReplicaBody, response: { 200: LedgerDiffReply, 400: ErrorReply } }, config: readers }, async (req) => {
    const replica = (req.body as ReplicaBody).entries;
    const head = store.ledger.head();
    return diffChains(replica, store.ledger.list(0, Math.max(head.length, 1)));
  });
}
