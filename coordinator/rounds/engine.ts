// What every part of a run (round 0, training rounds, an exact fit) works with: the store, the
// link to the sites, the desk where their answers arrive, and the observers of its progress.

import type { LedgerEntry } from '../../shared/ledger.js';
import type { RunConfig } from '../../shared/run-config.js';
import type { SiteOutcome, Store } from '../store/store.js';
import type { PhaseDesk, SiteLink } from './phase-desk.js';
import type { Phase } from './phase.js';
import type { StepObserver } from './run-steps.js';

export interface RoundSummary {
  runId: string;
  round: number;
  rounds: number;
  entry: LedgerEntry;
  outcomes: SiteOutcome[];
}

export interface Engine {
  readonly store: Store;
  readonly link: SiteLink;
  readonly desk: PhaseDesk;
  log(line: string): void;
  readonly onStep: StepObserver;
  onRound(s: RoundSummary): void;
  /** True once the coordinator is stopping or the run was cancelled: the round in flight is dropped. */
  interrupted(runId: string): boolean;
}

/** Thrown between phases when the run must stop where it is; nothing of the round was committed. */
export class RunInterrupted extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} interrupted`);
  }
}

export function checkInterrupted(engine: Engine, runId: string): void {
  if (engine.interrupted(runId)) throw new RunInterrupted(runId);
}

/** Opens a phase with the sites and waits for it to close; stops the run if it was interrupted meanwhile. */
export async function runPhase<T>(engine: Engine, phase: Phase<T>): Promise<void> {
  await engine.desk.run(engine.link, phase);
  checkInterrupted(engine, phase.collector.runId);
}

/** Waits until `minSites` sites are connected; null when they are, else why the round cannot start. */
export async function waitForSites(engine: Engine, runId: string, config: RunConfig, round: number): Promise<string | null> {
  const until = Date.now() + config.waitForSitesSec * 1000;
  while (engine.link.connectedSites().length < config.minSites) {
    checkInterrupted(engine, runId);
    if (Date.now() >= until) {
      return `${round === 0 ? 'statistics' : `round ${round}`}: ${engine.link.connectedSites().length} of the ${config.minSites} sites needed were connected after ${config.waitForSitesSec}s`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

export const connectedSet = (engine: Engine): Set<string> => new Set(engine.link.connectedSites().map((s) => s.siteId));
