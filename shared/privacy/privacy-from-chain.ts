// ε per run and per site, recomputed from a ledger chain alone: the coordinator's figures (written
// into each private round's entry and served by GET /v1/privacy) and a site replica's come from this
// one function, so either can check the other.
//
// Accounting: each private round is one step of the sampled Gaussian mechanism (q, σ) for its run
// and for each participant. A run composes its own rounds; a site composes every private round of
// every run it took part in (RDP added order by order over DEFAULT_ORDERS), converted to ε with the
// δ of the run in question (its latest run for a site's running total). Training rounds without DP
// (and exact fits) are counted apart as non-private rounds; statistics (round 0) and evaluations are
// outside this accounting.

import type { LedgerEntry } from '../ledger.js';
import type { EntryPrivacy } from './entry-privacy.js';
import { addRdp, DEFAULT_ORDERS, epsilonFromRdp, rdpSampledGaussian } from './rdp.js';

export interface RunPrivacy {
  runId: string;
  rounds: number;
  delta: number;
  noiseMultiplier: number;
  clip: number;
  epsilon: number;
}

export interface SitePrivacy {
  siteId: string;
  /** Private training rounds it took part in, over all runs. */
  privateRounds: number;
  /** Training rounds without DP it took part in (not in ε: their cost is unbounded). */
  nonPrivateRounds: number;
  /** δ of the latest private run it took part in; null before any. */
  delta: number | null;
  /** ε over its private rounds at that δ (0 before any). */
  epsilon: number;
}

export interface ChainPrivacy {
  runs: RunPrivacy[];
  sites: SitePrivacy[];
}

/** Mutable totals, fed entry by entry in chain order. */
export class PrivacyTally {
  private readonly runs = new Map<string, { rdp: number[]; rounds: number; delta: number; noiseMultiplier: number; clip: number }>();
  private readonly sites = new Map<string, { rdp: number[]; privateRounds: number; nonPrivateRounds: number; delta: number | null }>();
  private readonly stepCache = new Map<string, number[]>();

  constructor(readonly orders: readonly number[] = DEFAULT_ORDERS) {}

  /** One ledger entry: a private round, a round without DP, or round 0 (not counted). */
  add(entry: Pick<LedgerEntry, 'runId' | 'round' | 'participants'> & { privacy?: EntryPrivacy | undefined }): void {
    if (entry.privacy === undefined) {
      if (entry.round === 0) return;
      for (const p of entry.participants) this.site(p.siteId).nonPrivateRounds++;
      return;
    }
    const pr = entry.privacy;
    const step = this.step(pr.samplingRate, pr.sigma);
    const run = this.runs.get(entry.runId) ?? { rdp: this.orders.map(() => 0), rounds: 0, delta: pr.delta, noiseMultiplier: pr.noiseMultiplier, clip: pr.clip };
    this.runs.set(entry.runId, { ...run, rdp: addRdp(run.rdp, step), rounds: run.rounds + 1, delta: pr.delta });
    for (const p of entry.participants) {
      const s = this.site(p.siteId);
      s.rdp = addRdp(s.rdp, step);
      s.privateRounds++;
      s.delta = pr.delta;
    }
  }

  /** ε of a run so far at its δ; 0 for a run with no private round. */
  runEpsilon(runId: string): number {
    const r = this.runs.get(runId);
    return r === undefined ? 0 : this.epsilon(r.rdp, r.delta);
  }

  /** A site's ε over all its private rounds, at `delta`. */
  siteEpsilon(siteId: string, delta: number): number {
    const s = this.sites.get(siteId);
    return s === undefined || s.privateRounds === 0 ? 0 : this.epsilon(s.rdp, delta);
  }

  /** A site's ε at the δ of its latest private run (0 before any). */
  siteTotal(siteId: string): number {
    const delta = this.sites.get(siteId)?.delta ?? null;
    return delta === null ? 0 : this.siteEpsilon(siteId, delta);
  }

  /** What a site would have spent at `delta` after `steps` more steps at (q, σ). */
  projectedSiteEpsilon(siteId: string, more: { q: number; sigma: number; steps: number }, delta: number): number {
    const s = this.sites.get(siteId);
    const base = s?.rdp ?? this.orders.map(() => 0);
    const step = this.step(more.q, more.sigma);
    return this.epsilon(base.map((x, k) => x + more.steps * step[k]!), delta);
  }

  summary(): ChainPrivacy {
    return {
      runs: [...this.runs].map(([runId, r]) => ({ runId, rounds: r.rounds, delta: r.delta, noiseMultiplier: r.noiseMultiplier, clip: r.clip, epsilon: this.epsilon(r.rdp, r.delta) })),
      sites: [...this.sites]
        .map(([siteId, s]) => ({
          siteId,
          privateRounds: s.privateRounds,
          nonPrivateRounds: s.nonPrivateRounds,
          delta: s.delta,
          epsilon: s.delta === null ? 0 : this.epsilon(s.rdp, s.delta),
        }))
        .sort((a, b) => a.siteId.localeCompare(b.siteId)),
    };
  }

  private site(id: string): { rdp: number[]; privateRounds: number; nonPrivateRounds: number; delta: number | null } {
    let s = this.sites.get(id);
    if (s === undefined) {
      s = { rdp: this.orders.map(() => 0), privateRounds: 0, nonPrivateRounds: 0, delta: null };
      this.sites.set(id, s);
    }
    return s;
  }

  /** RDP of one step per order, computed once per (q, σ). */
  private step(q: number, sigma: number): number[] {
    const key = `${q}/${sigma}`;
    let rdp = this.stepCache.get(key);
    if (rdp === undefined) {
      rdp = this.orders.map((a) => rdpSampledGaussian(q, sigma, a));
      this.stepCache.set(key, rdp);
    }
    return rdp;
  }

  private epsilon(rdp: readonly number[], delta: number): number {
    return epsilonFromRdp(rdp, this.orders, delta).epsilon;
  }
}

/** Tallies a whole chain (in order). */
export function tallyChain(entries: Iterable<LedgerEntry>): PrivacyTally {
  const tally = new PrivacyTally();
  for (const e of entries) tally.add(e);
  return tally;
}

/** ε of every run and every site the chain names, recomputed from the entries alone. */
export function privacyFromChain(entries: Iterable<LedgerEntry>): ChainPrivacy {
  return tallyChain(entries).summary();
}

/**
 * The figures a private round's entry must record, given the tally of every entry before it: the
 * same arithmetic the coordinator used to write them. Returns the entry's privacy field with them.
 */
export function entryFigures(before: PrivacyTally, entry: Pick<LedgerEntry, 'runId' | 'round' | 'participants'>, step: Omit<EntryPrivacy, 'runEpsilon' | 'siteEpsilon'>): EntryPrivacy {
  const probe = { ...entry, privacy: { ...step, runEpsilon: 0, siteEpsilon: [] } };
  before.add(probe);
  return {
    ...step,
    runEpsilon: before.runEpsilon(entry.runId),
    siteEpsilon: entry.participants.map((p) => ({ siteId: p.siteId, epsilon: before.siteEpsilon(p.siteId, step.delta) })),
  };
}

/**
 * Why `entry`'s recorded ε differ from what `before` (the tally of every entry before it) gives, or
 * null; `before` then includes `entry`.
 */
export function privacyProblem(before: PrivacyTally, entry: LedgerEntry): string | null {
  if (entry.privacy === undefined) {
    before.add(entry);
    return null;
  }
  const { runEpsilon, siteEpsilon, ...step } = entry.privacy;
  const want = entryFigures(before, entry, step);
  if (want.runEpsilon !== runEpsilon) return `entry ${entry.index} records run ε ${runEpsilon}, the chain gives ${want.runEpsilon}`;
  const wrong = want.siteEpsilon.find((s, k) => siteEpsilon[k]?.siteId !== s.siteId || siteEpsilon[k]?.epsilon !== s.epsilon);
  if (wrong !== undefined || siteEpsilon.length !== want.siteEpsilon.length) return `entry ${entry.index} records another ε for ${wrong?.siteId ?? 'its participants'} than the chain gives`;
  return null;
}

/** Entries whose recorded ε differ from what the chain before them gives: [index, why]. */
export function privacyMismatches(entries: Iterable<LedgerEntry>): [number, string][] {
  const tally = new PrivacyTally();
  const bad: [number, string][] = [];
  for (const e of entries) {
    const problem = privacyProblem(tally, e);
    if (problem !== null) bad.push([e.index, problem]);
  }
  return bad;
}
