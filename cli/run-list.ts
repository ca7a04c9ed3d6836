// `fedrx run list`: the coordinator's runs, newest first, as a table (or as JSON with --json).

import type { RunSummary } from '../coordinator/http/routes/runs.js';
import { FedrxError } from '../shared/errors.js';
import { apiClient } from './remote-commands.js';
import { textTable } from './text-table.js';

/** "2025-01-31 09:15:02" (UTC) from an ISO time. */
const when = (iso: string | null): string => (iso === null ? '–' : iso.replace('T', ' ').slice(0, 19));

/** Longest reason shown in the table; --json has it whole. */
const MAX_REASON = 80;

/** Why the run ended as it did, or that it was asked to stop. */
function reason(r: RunSummary): string {
  const text = r.error ?? r.stopReason ?? (r.cancelRequestedAt === null ? '' : `cancel requested at ${when(r.cancelRequestedAt)} by ${r.cancelRequestedBy ?? '?'}`);
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

export function runTable(runs: readonly RunSummary[]): string {
  const head = ['id', 'status', 'strategy', 'rounds', 'best', 'created (UTC)', 'ended (UTC)', 'error / stop reason'];
  const rows = runs.map((r) => [
    r.id,
    r.status,
    r.strategy,
    `${r.roundsDone}/${r.roundsPlanned}`,
    r.bestRound === null ? '–' : String(r.bestRound),
    when(r.createdAt),
    when(r.endedAt),
    reason(r),
  ]);
  return textTable(head, rows);
}

export async function runListCommand(url: string, o: { token?: string | undefined; tlsCa?: string | undefined; limit?: string | undefined; json?: boolean | undefined }): Promise<number> {
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new FedrxError('E_BAD_REQUEST', `--limit must be a whole number ≥ 1, got "${o.limit}"`);
  const { runs } = await apiClient(url, o).runs(limit);
  if (o.json === true) console.log(JSON.stringify(runs, null, 2));
  else console.log(runs.length === 0 ? 'no runs' : runTable(runs));
  return 0;
}
