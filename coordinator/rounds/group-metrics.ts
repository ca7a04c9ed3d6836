// Held-out figures per level of the study's groupBy feature (e.g. ancestry), from the sites'
// per-level sums: exact, as if the rows were pooled. In a round's metrics as `group.<level>.n`
// and `group.<level>.<metric>`, so they are recorded on the ledger with the model.

import { groupingFeature, type Study } from '../../shared/study.js';
import type { EvalSums } from '../../shared/wire.js';
import type { EvalReport } from '../phases/evaluation-phase.js';
import { evalMetrics } from './eval-metrics.js';

export const GROUP_PREFIX = 'group.';

export function groupMetrics(study: Study, evals: ReadonlyMap<string, EvalReport>): Record<string, number> {
  const by = groupingFeature(study);
  if (by === null) return {};
  const out: Record<string, number> = {};
  for (const level of by.levels) {
    const sums: EvalSums[] = [...evals.values()].flatMap((e) => e.groups?.filter((g) => g.level === level).map((g) => g.sums) ?? []);
    const n = sums.reduce((t, s) => t + s.n, 0);
    if (n === 0) continue;
    out[`${GROUP_PREFIX}${level}.n`] = n;
    for (const [name, v] of Object.entries(evalMetrics(study, sums))) out[`${GROUP_PREFIX}${level}.${name}`] = v;
  }
  return out;
}

/** The per-level figures back from a round's metrics: level → { n, metric: value }. */
export function groupsFromMetrics(metrics: Readonly<Record<string, number>>): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const [key, v] of Object.entries(metrics)) {
    if (!key.startsWith(GROUP_PREFIX)) continue;
    const dot = key.lastIndexOf('.');
    const level = key.slice(GROUP_PREFIX.length, dot);
    out.set(level, { ...out.get(level), [key.slice(dot + 1)]: v });
  }
  return out;
}
