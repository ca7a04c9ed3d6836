// How rounds look in a terminal: one line per round, and a small chart of the metric per round.

import type { RunView } from './client/client.js';
import { listUpTo } from '../shared/list-text.js';
import type { RoundRow } from '../coordinator/store/store.js';
import { penaltyFromMetrics } from '../coordinator/rounds/exact/exact-result.js';

const fmt = (x: number | undefined, digits: number): string => (x === undefined ? '–' : x.toFixed(digits));

export function roundLine(r: RoundRow, run: RunView): string {
  const total = run.config.rounds;
  if (r.round === 0 && r.status === 'committed') {
    return `round 0/${total}  statistics of ${r.metrics.trainExamples ?? 0} rows from ${r.metrics.sites ?? 0} sites fixed the preprocessing; initial model ${r.modelHash?.slice(0, 16) ?? '–'}`;
  }
  if (r.status === 'failed') return `round ${r.round}/${total}  FAILED: ${r.error ?? 'unknown reason'}`;
  const m = r.metrics;
  const rejected = r.sites.filter((s) => s.status !== 'accepted').map((s) => `${s.siteId}:${s.code ?? s.status}`);
  return (
    `round ${r.round}/${total}  sites ${m.sites ?? 0}/${r.sites.length}  ` +
    `train loss ${fmt(m.trainLoss, 4)}  ` +
    (m.valLoss !== undefined ? `val loss ${fmt(m.valLoss, 4)}${m.bestRound === r.round ? ' (best)' : ''}  ` : '') +
    `eval loss ${fmt(m.evalLoss, 4)}  ${run.metric} ${fmt(m.evalMetric, 3)}  ` +
    (m.pw20 !== undefined && !run.metric.startsWith('PW20') ? `PW20 ${fmt(m.pw20, 1)}%  ` : '') +
    (m.r2 !== undefined && !run.metric.startsWith('R²') ? `R² ${fmt(m.r2, 3)}  ` : '') +
    `model ${r.modelHash?.slice(0, 16) ?? '–'}` +
    (rejected.length > 0 ? `  refused: ${listUpTo(rejected, 12)}` : '') +
    (m.stoppedEarly === 1 ? `  STOPPED EARLY: no better validation loss since round ${m.bestRound ?? '–'}` : '') +
    penaltyLines(m)
  );
}

/** An exact fit's penalty search: the choice, then one line per candidate with its validation loss. */
function penaltyLines(m: Record<string, number>): string {
  const p = penaltyFromMetrics(m);
  if (p === null) return '';
  if (p.grid.length === 0) return `  l2 ${p.l2.toPrecision(4)}`;
  const rows = p.grid.map((l, i) => `\n    l2 ${l.toPrecision(4).padStart(10)}  cv loss ${p.cvLoss[i]!.toFixed(5)}${l === p.l2 ? '  ← chosen' : ''}`);
  return `  l2 ${p.l2.toPrecision(4)} chosen from ${p.grid.length} by ${p.folds}-fold federated validation:${rows.join('')}`;
}

/** A horizontal bar per round, scaled between the smallest and largest value. */
export function metricChart(label: string, points: { round: number; value: number }[], width = 40): string {
  if (points.length === 0) return '';
  const values = points.map((p) => p.value);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const lines = points.map((p) => {
    const bar = '█'.repeat(Math.max(1, Math.round(((p.value - lo) / span) * (width - 1)) + 1));
    return `  ${String(p.round).padStart(3)} │${bar.padEnd(width)} ${p.value.toFixed(3)}`;
  });
  return [`${label} per round`, ...lines].join('\n');
}
