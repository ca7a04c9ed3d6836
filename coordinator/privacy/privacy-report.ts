// GET /v1/privacy: every run's and site's ε as privacyFromChain recomputes them from the ledger
// (the figures a site's replica gives too), beside each site's budget and what is left of it.

import { privacyFromChain, type RunPrivacy, type SitePrivacy } from '../../shared/privacy/privacy-from-chain.js';
import type { BudgetChange } from '../store/privacy-budgets.js';
import type { Store } from '../store/store.js';

export interface SiteReport extends SitePrivacy {
  /** The budget an admin set, or null. */
  budget: number | null;
  /** budget − ε, or null without a budget. */
  remaining: number | null;
}

export interface PrivacyReport {
  runs: RunPrivacy[];
  sites: SiteReport[];
  budgetChanges: BudgetChange[];
}

export function privacyReport(store: Store): PrivacyReport {
  const { runs, sites } = privacyFromChain(store.ledger.inOrder());
  const budgets = store.budgets.current();
  const known = new Map(sites.map((s) => [s.siteId, s]));
  // Registered sites that never trained are listed too, with ε 0.
  for (const s of store.sites.list()) if (!known.has(s.id)) known.set(s.id, { siteId: s.id, privateRounds: 0, nonPrivateRounds: 0, delta: null, epsilon: 0 });
  const report = [...known.values()]
    .sort((a, b) => a.siteId.localeCompare(b.siteId))
    .map((s) => {
      const budget = budgets.get(s.siteId)?.epsilon ?? null;
      return { ...s, budget, remaining: budget === null ? null : budget - s.epsilon };
    });
  return { runs, sites: report, budgetChanges: store.budgets.history() };
}
