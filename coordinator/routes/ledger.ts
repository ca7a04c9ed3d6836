import type { FastifyInstance } from 'fastify';
import { LedgerQuery } from '../schemas/ledger.js';
import type { Store } from '../store.js';

export function ledgerRoutes(app: FastifyInstance, store: Store): void {
  app.get('/v1/ledger', { schema: { querystring: LedgerQuery }, config: { roles: ['auditor', 'data-scientist'] } }, async (req) => {
    const q = req.query as LedgerQuery;
    const head = store.ledger.head();
    return { length: head.length, headHash: head.headHash, entries: store.ledger.list(q.from ?? 0, q.limit ?? 1000) };
  });

  app.get('/v1/ledger/verify', { config: { roles: ['auditor', 'data-scientist'] } }, async () => store.ledger.verify());
}
