import type { FastifyInstance } from 'fastify';
import { refuseWhenReadOnly } from '../http-errors.js';
import { principalOf } from '../../trust/auth.js';
import { privacyReport } from '../../privacy/privacy-report.js';
import { BudgetParams, SetBudgetBody } from '../schemas/privacy.js';
import type { Store } from '../../store/store.js';
import { principalName } from '../../trust/token-store.js';

/** ε per run and per site from the ledger, and the sites' budgets. */
export function privacyRoutes(app: FastifyInstance, store: Store, opts: { readOnly: boolean }): void {
  app.get('/v1/privacy', { config: { roles: ['auditor', 'admin'] } }, async () => privacyReport(store));

  const writable = refuseWhenReadOnly(opts.readOnly, 'budgets cannot be set');
  /** Sets or lifts a site's budget; who did it is kept in the budget log. */
  app.put('/v1/privacy/budgets/:siteId', { schema: { params: BudgetParams, body: SetBudgetBody }, preValidation: writable, config: { roles: ['admin'] } }, async (req) => {
    const { siteId } = req.params as BudgetParams;
    const { epsilon } = req.body as SetBudgetBody;
    return store.budgets.set(siteId, epsilon, principalName(principalOf(req)));
  });
}
