// The lines a run prints as it goes: one per committed round, readable at a glance in a terminal.

import type { LedgerEntry } from '../../shared/ledger.js';

/** "run r round 3/10: 4/4 sites, eval loss …, model …, ledger #12"; a relay run's rounds are its parent's (`rounds` null). */
export function formatRoundLine(runId: string, round: number, rounds: number | null, entry: LedgerEntry, selected: number, stop: string | null): string {
  const m = entry.metrics;
  const f = (x: number | undefined, d = 4): string => (x === undefined ? '-' : x.toFixed(d));
  const val = m.valLoss === undefined ? '' : `, validation loss ${f(m.valLoss)} (best round ${m.bestRound})`;
  const eps = entry.privacy === undefined ? '' : `, ε ${f(entry.privacy.runEpsilon, 3)} (δ ${entry.privacy.delta.toPrecision(2)})`;
  return `run ${runId} round ${round}${rounds === null ? ' (relay)' : `/${rounds}`}: ${m.sites}/${selected} sites, eval loss ${f(m.evalLoss)}, metric ${f(m.evalMetric)}${val}${eps}, model ${entry.modelHash.slice(0, 12)}, ledger #${entry.index}${stop === null ? '' : `; stopping early: ${stop}`}`;
}
