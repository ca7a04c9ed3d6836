// Where a relay run's steps wait: the REST route posts a step and awaits its result; the relay
// loop (relay-run.ts) takes the steps one at a time, runs them, and settles each one's promise.
// Data flows one way, route → inbox → loop; the inbox knows nothing of rounds.

import { FedrxError } from '../../shared/errors.js';
import type { RelayEvaluation, RelayStatistics } from '../../shared/relay-wire.js';
import type { RelayTask } from './relay-task.js';

export type RelayStep = { kind: 'statistics' } | { kind: 'train'; task: RelayTask } | { kind: 'evaluate'; task: RelayTask } | { kind: 'end' };

/** What each step answers: statistics and evaluation as JSON, a training round as a relay-update frame. */
export interface RelayResults {
  statistics: RelayStatistics;
  train: Buffer;
  evaluate: RelayEvaluation;
  /** The route answers with the run as it ended. */
  end: null;
}

/** A posted step and how to answer it: exactly one of resolve or reject is called. */
export interface PendingStep {
  readonly step: RelayStep;
  resolve(result: RelayResults[RelayStep['kind']]): void;
  reject(error: FedrxError): void;
}

/** How often a waiting loop asks whether its run was cancelled or the coordinator is stopping. */
const POLL_MS = 200;

export class RelayInbox {
  private readonly queues = new Map<string, PendingStep[]>();
  private readonly wakers = new Map<string, () => void>();
  /** Runs whose loop has let go: a step posted to one is refused with the error it ended on. */
  private readonly closed = new Map<string, FedrxError>();

  /** Queues `step` for run `runId`; settles when the loop has run it (a queued run's steps wait for it to start). */
  post<K extends RelayStep['kind']>(runId: string, step: Extract<RelayStep, { kind: K }>): Promise<RelayResults[K]> {
    const ended = this.closed.get(runId);
    if (ended !== undefined) return Promise.reject(ended);
    return new Promise<RelayResults[K]>((resolve, reject) => {
      const queue = this.queues.get(runId) ?? [];
      queue.push({ step, resolve: resolve as (r: RelayResults[RelayStep['kind']]) => void, reject });
      this.queues.set(runId, queue);
      this.wakers.get(runId)?.();
    });
  }

  /** The next step of `runId`; null once none arrived for `idleMs`, or as soon as `stop()` says so. */
  async next(runId: string, idleMs: number, stop: () => boolean): Promise<PendingStep | null> {
    const until = Date.now() + idleMs;
    for (;;) {
      const queued = this.queues.get(runId)?.shift();
      if (queued !== undefined) return queued;
      const left = until - Date.now();
      if (left <= 0 || stop()) return null;
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, POLL_MS));
        this.wakers.set(runId, () => {
          clearTimeout(timer);
          wake();
        });
      });
      this.wakers.delete(runId);
    }
  }

  /** The run's loop has let go: its waiting steps, and any posted later, are refused with `error`. */
  close(runId: string, error: FedrxError): void {
    this.closed.set(runId, error);
    for (const p of this.queues.get(runId) ?? []) p.reject(error);
    this.queues.delete(runId);
  }

  /** The run goes on (a coordinator that stopped and started again in one process): steps are taken again. */
  reopen(runId: string): void {
    this.closed.delete(runId);
  }
}
