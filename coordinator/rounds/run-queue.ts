// Runs the queued runs one at a time, oldest first; a run that a stopped coordinator left running
// goes first, from its last committed round. Stopping the coordinator closes the open phase and
// leaves the run running, to be resumed at the next start; nothing of the round in flight is kept.

import { isFedrxError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';
import { RunInterrupted, type Engine, type RoundSummary, type SiteLink } from './engine.js';
import type { StepObserver } from './run-steps.js';
import type { PhaseDesk } from '../phases/phase-desk.js';
import { executeRun } from './run-loop.js';
import { RelayInbox } from './relay-inbox.js';
import { relayRun } from './relay-run.js';

export class RunQueue {
  private readonly engine: Engine;
  /** Where the REST routes post relay runs' steps (relay-run.ts). */
  readonly relays = new RelayInbox();
  private busy = false;
  private stopping = false;
  private idle: Promise<void> = Promise.resolve();

  /** `desk`: where the gateway delivers the sites' answers. */
  /** `desk`: where the gateway delivers the sites' answers (its answers are reported to `onStep` by the caller). */
  constructor(
    store: Store,
    link: SiteLink,
    private readonly desk: PhaseDesk,
    log: (line: string) => void,
    private readonly observers: { onRound?: (s: RoundSummary) => void; onStep?: StepObserver; onRunEnd?: (runId: string) => void } = {},
  ) {
    this.engine = { store, link, desk, log, onStep: observers.onStep ?? (() => {}), onRound: observers.onRound ?? (() => {}), interrupted: (runId) => this.stopping || store.isCancelRequested(runId) };
  }

  /** Starts working through the runs if it is not already. */
  kick(): void {
    if (this.busy || this.stopping) return;
    this.busy = true;
    this.idle = this.work().finally(() => {
      this.busy = false;
    });
  }

  /** A cancel was requested for the running run `runId`: its open phase closes now, nothing of the round is kept. */
  cancel(runId: string): void {
    if (this.engine.store.isCancelRequested(runId)) this.desk.closeAll();
  }

  /** Closes the open phase and waits for the run loop to let go; the run stays running for the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.desk.closeAll();
    await this.idle;
  }

  private async work(): Promise<void> {
    const { store, link, log } = this.engine;
    for (let run = store.nextRun(); run !== null && !this.stopping; run = store.nextRun()) {
      try {
        await (run.config.relay === undefined ? executeRun(this.engine, run) : relayRun(this.engine, run, this.relays));
      } catch (e) {
        if (e instanceof RunInterrupted && !this.stopping && store.isCancelRequested(run.id)) {
          store.endCancelledRun(run.id);
          log(`run ${run.id} ${store.getRun(run.id)?.stopReason ?? 'cancelled'}; nothing of a round in flight was committed`);
          continue;
        }
        if (e instanceof RunInterrupted) {
          log(`run ${run.id} interrupted; it resumes from its last committed round at the next start`);
          return;
        }
        const message = isFedrxError(e) ? `${e.code}: ${e.message}` : `internal error: ${(e as Error).message}`;
        log(`run ${run.id} failed: ${message}`);
        store.endRun(run.id, 'failed', message);
      } finally {
        link.expectRun(null);
        this.observers.onRunEnd?.(run.id);
      }
    }
  }
}
