// Live progress of runs for the dashboard: the run queue's observers publish here (rounds
// committed, steps of a round, the end of a run) and each open event stream of GET
// /v1/runs/:id/events subscribes to its run. Nothing is kept: a page reads the run's history
// once (GET /v1/runs/:id) and follows from there.

import type { RoundSummary } from '../rounds/engine.js';
import type { RunStep } from '../rounds/run-steps.js';

/** One committed round as the curves and the rounds table need it (no rows, no weights). */
export interface RoundEvent {
  type: 'round';
  runId: string;
  round: number;
  rounds: number;
  modelHash: string;
  ledgerIndex: number;
  metrics: Record<string, number>;
  sites: { siteId: string; status: string; code?: string; reason?: string; numExamples?: number; trainLoss?: number; evalLoss?: number; evalMetric?: number }[];
}

export type RunEvent = RoundEvent | ({ type: 'step' } & RunStep) | { type: 'end'; runId: string };

type Listener = (e: RunEvent) => void;

export class RunEvents {
  private readonly listeners = new Map<string, Set<Listener>>();

  /** Calls `listener` with each event of run `runId` until the returned function is called. */
  subscribe(runId: string, listener: Listener): () => void {
    let set = this.listeners.get(runId);
    if (set === undefined) this.listeners.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(runId);
    };
  }

  round(s: RoundSummary): void {
    this.publish({
      type: 'round',
      runId: s.runId,
      round: s.round,
      rounds: s.rounds,
      modelHash: s.entry.modelHash,
      ledgerIndex: s.entry.index,
      metrics: s.entry.metrics,
      // Signatures and update hashes stay in the ledger entry; the page links to it.
      sites: s.outcomes.map(({ siteId, status, code, reason, numExamples, trainLoss, evalLoss, evalMetric }) => ({
        siteId, status, ...defined({ code, reason, numExamples, trainLoss, evalLoss, evalMetric }),
      })),
    });
  }

  step(s: RunStep): void {
    this.publish({ type: 'step', ...s });
  }

  ended(runId: string): void {
    this.publish({ type: 'end', runId });
  }

  private publish(e: RunEvent): void {
    // A listener that throws (a closed socket) must not stop the run loop that called us.
    for (const listener of this.listeners.get(e.runId) ?? []) {
      try {
        listener(e);
      } catch {
        /* the stream closes itself */
      }
    }
  }
}

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
