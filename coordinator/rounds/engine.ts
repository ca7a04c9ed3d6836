// What every part of a run (round 0, training rounds, an exact fit) works with: the store, the
// link to the sites, the desk where their answers arrive, and the observers of its progress.

import { FedrxError } from '../../shared/errors.js';
import type { ChildHead, LedgerEntry } from '../../shared/ledger.js';
import type { RunConfig } from '../run-config-schema.js';
import type { RunFrameLimits } from '../gateway/frame-caps.js';
import type { SiteOutcome, Store } from '../store/store.js';
import type { PhaseDesk } from '../phases/phase-desk.js';
import type { Phase } from '../phases/phase.js';
import type { StepObserver } from './run-steps.js';

/** What the run engine needs of the gateway's sending side. */
export interface SiteLink {
  connectedSites(): readonly { siteId: string }[];
  isConnected(siteId: string): boolean;
  /** Resolves false when the site is gone or the send failed. */
  send(siteId: string, data: Buffer | string): Promise<boolean>;
  broadcastLedger(entries: LedgerEntry[]): void;
  /** What frames sites may send for the open run; null when none is open. */
  expectRun(limits: RunFrameLimits | null): void;
}

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

/**
 * Opens `phase` on the desk, sends its request to every site it asks, and waits until it closes
 * (all answered, or the deadline); stops the run if it was interrupted meanwhile.
 */
export async function runPhase<T>(engine: Engine, phase: Phase<T>): Promise<void> {
  const { collector } = phase;
  engine.desk.open(phase);
  try {
    await Promise.all(
      [...collector.asked].map(async (site) => {
        if (!(await engine.link.send(site, phase.requestFor?.(site) ?? phase.request))) collector.record(site, { kind: 'refused', code: 'E_DISCONNECTED', reason: 'the request could not be sent' });
      }),
    );
    engine.onStep({ step: 'phase-open', phase: phase.name, runId: collector.runId, round: collector.round });
    await collector.done;
  } finally {
    engine.desk.close(phase);
  }
  checkInterrupted(engine, collector.runId);
}

/**
 * How many connected sites a round of this run waits for: minSites, and for secure aggregation at
 * least its threshold (a secure round with fewer sites could never finish).
 */
export const sitesNeeded = (config: RunConfig, round: number): number =>
  round > 0 && config.secureAggregation !== undefined ? Math.max(config.minSites, config.secureAggregation.threshold ?? 3) : config.minSites;

/** Waits until the sites the round needs are connected; null when they are, else why the round cannot start. */
export async function waitForSites(engine: Engine, runId: string, config: RunConfig, round: number): Promise<string | null> {
  const until = Date.now() + config.waitForSitesSec * 1000;
  const needed = sitesNeeded(config, round);
  while (engine.link.connectedSites().length < needed) {
    checkInterrupted(engine, runId);
    if (Date.now() >= until) {
      return `${round === 0 ? 'statistics' : `round ${round}`}: ${engine.link.connectedSites().length} of the ${needed} sites needed were connected after ${config.waitForSitesSec}s`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

export const connectedSet = (engine: Engine): Set<string> => new Set(engine.link.connectedSites().map((s) => s.siteId));

/**
 * A round that cannot close ends its run: recorded with the round's sites, as E_ROUND_FAILED and
 * the reason (who was missing, refused or late). Returns what was recorded.
 */
export function failRound(engine: Engine, runId: string, round: number, startedAt: string, reason: string, outcomes: SiteOutcome[]): string {
  const e = new FedrxError('E_ROUND_FAILED', reason);
  const recorded = `${e.code}: ${e.message}`;
  engine.store.failRun(runId, round, startedAt, recorded, outcomes);
  return recorded;
}

/** The ledger entry's participants: each accepted site with its example count, update hash and signature. */
export function participantsOf(outcomes: readonly SiteOutcome[]): { siteId: string; numExamples: number; updateHash: string; signature: string }[] {
  return outcomes
    .filter((o) => o.status === 'accepted')
    .map((o) => ({ siteId: o.siteId, numExamples: o.numExamples!, updateHash: o.updateHash!, signature: o.signature! }));
}

/** The entry's `children`: each accepted participant that sent its regional chain's head, by siteId; nothing when none did. */
export function childrenOf(outcomes: readonly SiteOutcome[]): { children?: ChildHead[] } {
  const children = outcomes
    .filter((o) => o.status === 'accepted' && o.childHead !== undefined)
    .map((o) => ({ siteId: o.siteId, head: o.childHead! }))
    .sort((a, b) => (a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : 0));
  return children.length === 0 ? {} : { children };
}
