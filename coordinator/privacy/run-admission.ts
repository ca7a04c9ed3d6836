// At run start: a run that could take a site past the privacy budget an admin set for it is refused
// (E_BUDGET_EXCEEDED), naming every such site. The projection is an upper bound: every planned
// round at q = 1 (any registered site may be selected in every round), composed with what the
// chain says the site has already spent, at the new run's δ. A run without DP would cost a site
// an unbounded ε, so it is refused whenever any registered site has a budget.

import { FedrxError } from '../../shared/errors.js';
import { tallyChain } from '../../shared/privacy/privacy-from-chain.js';
import type { RunConfig } from '../run-config-schema.js';
import type { Store } from '../store/store.js';

export interface OverBudget {
  siteId: string;
  budget: number;
  spent: number;
  /** ε after this run's planned rounds; Infinity for a run without DP. */
  projected: number;
}

/** Registered, unrevoked sites: the n of δ < 1/n and of each round's sampling rate. */
export const registeredSiteCount = (store: Store): number => store.sites.list().filter((s) => s.revokedAt === null).length;

/** The sites `config` would take past their budget (none when no site has one). */
export function sitesOverBudget(store: Store, config: RunConfig): OverBudget[] {
  const budgets = store.budgets.current();
  const active = store.sites.list().filter((s) => s.revokedAt === null && budgets.has(s.id));
  if (active.length === 0) return [];
  const tally = tallyChain(store.ledger.inOrder());
  const over: OverBudget[] = [];
  for (const site of active) {
    const budget = budgets.get(site.id)!.epsilon!;
    const dp = config.dp;
    const spent = dp === undefined ? tally.siteTotal(site.id) : tally.siteEpsilon(site.id, dp.delta!);
    const projected = dp === undefined ? Infinity : tally.projectedSiteEpsilon(site.id, { q: 1, sigma: dp.noiseMultiplier, steps: config.rounds }, dp.delta!);
    if (projected > budget) over.push({ siteId: site.id, budget, spent, projected });
  }
  return over;
}

/** Throws E_BUDGET_EXCEEDED when `config` would take any site past its budget. */
export function refuseOverBudget(store: Store, config: RunConfig): void {
  const over = sitesOverBudget(store, config);
  if (over.length === 0) return;
  const what =
    config.dp === undefined
      ? 'a run without differential privacy spends an unbounded ε of every site it trains on'
      : `${config.rounds} rounds at noise multiplier ${config.dp.noiseMultiplier} (δ = ${config.dp.delta!.toPrecision(3)}) would take sites past their budget`;
  const list = over.map((o) => `${o.siteId} (budget ${o.budget}, spent ${o.spent.toFixed(3)}, after this run up to ${o.projected === Infinity ? '∞' : o.projected.toFixed(3)})`);
  throw new FedrxError('E_BUDGET_EXCEEDED', `${what}: ${list.join(', ')}`, { sites: over.map((o) => o.siteId) });
}
