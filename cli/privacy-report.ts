// `fedrx privacy report` and `fedrx privacy budget`: ε per run and per site as tables, and an
// admin setting a site's budget, over the REST API.

import type { PrivacyReport } from '../coordinator/privacy/privacy-report.js';
import { FedrxError } from '../shared/errors.js';
import { apiClient } from './remote-commands.js';
import { textTable } from './text-table.js';

const eps = (x: number | null): string => (x === null ? '–' : x === Infinity ? '∞' : x.toFixed(3));

/** The report as two tables: runs, then sites with their budgets. */
export function privacyTables(r: PrivacyReport): string {
  const runs = textTable(
    ['run', 'private rounds', 'noise multiplier', 'clip', 'δ', 'ε'],
    r.runs.map((x) => [x.runId, String(x.rounds), String(x.noiseMultiplier), String(x.clip), x.delta.toPrecision(3), eps(x.epsilon)]),
  );
  const sites = textTable(
    ['site', 'private rounds', 'non-private rounds', 'δ', 'ε (private rounds)', 'budget', 'remaining'],
    r.sites.map((s) => [s.siteId, String(s.privateRounds), String(s.nonPrivateRounds), s.delta === null ? '–' : s.delta.toPrecision(3), eps(s.epsilon), eps(s.budget), eps(s.remaining)]),
  );
  const note = r.sites.some((s) => s.nonPrivateRounds > 0) ? '\nnon-private rounds (training without DP, exact fits) have no ε bound and are not in ε' : '';
  return `ε per run (DP runs only)\n${r.runs.length === 0 ? '(none)' : runs}\n\nε per site, across all runs on its data\n${sites}${note}`;
}

export async function privacyReportCommand(url: string, o: { token?: string | undefined; tlsCa?: string | undefined; json?: boolean | undefined }): Promise<number> {
  const report = await apiClient(url, o).privacy();
  console.log(o.json === true ? JSON.stringify(report, null, 2) : privacyTables(report));
  return 0;
}

/** A positive finite ε from a flag (E_BAD_REQUEST otherwise). */
export function positiveEpsilon(raw: string, flag: string): number {
  const x = Number(raw);
  if (!(Number.isFinite(x) && x > 0)) throw new FedrxError('E_BAD_REQUEST', `${flag} must be a positive finite ε, got ${JSON.stringify(raw)}`);
  return x;
}

export async function privacyBudgetCommand(url: string, o: { site: string; epsilon?: string | undefined; lift?: boolean | undefined; token?: string | undefined; tlsCa?: string | undefined }): Promise<number> {
  if ((o.epsilon === undefined) === (o.lift !== true)) throw new FedrxError('E_BAD_REQUEST', 'give either --epsilon E or --lift');
  const epsilon = o.epsilon === undefined ? null : positiveEpsilon(o.epsilon, '--epsilon');
  const change = await apiClient(url, o).setBudget(o.site, epsilon);
  console.log(`site ${change.siteId}: privacy budget ${change.epsilon === null ? 'lifted' : `ε ${change.epsilon}`} (set by ${change.setBy} at ${change.setAt})`);
  return 0;
}
