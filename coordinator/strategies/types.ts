// The contract between the round runner and a strategy. A strategy only does maths: it is handed
// updates one at a time, says yes or no to each (a refusal is data, not an exception), and at the
// end produces the next global model. Memory is O(model size) whatever the number of sites.

import type { ErrorCode } from '../../shared/errors.js';
import type { Weights } from '../../shared/tensors.js';
import type { StrategyOptions } from '../../shared/run-config.js';

export interface SiteUpdate {
  siteId: string;
  runId: string;
  round: number;
  baseModelHash: string;
  numExamples: number;
  updateHash: string;
  weights: Weights;
}

export type AcceptResult = { accepted: true } | { accepted: false; code: ErrorCode; reason: string };

export interface RoundContext {
  runId: string;
  round: number;
  globalWeights: Weights;
  globalHash: string;
  /** Sites asked to train this round. */
  selected: ReadonlySet<string>;
}

export interface AggregateResult {
  weights: Weights;
  totalExamples: number;
  contributors: number;
}

export interface Aggregator {
  accept(update: SiteUpdate): AcceptResult;
  readonly accepted: number;
  /** The next global model, or null when nothing was accepted (keep the previous one). */
  finalize(): AggregateResult | null;
}

/**
 * One strategy instance lives for one run: it may keep state across that run's rounds (FedAdam's
 * moments), so a run gets a fresh instance from a factory and never shares it with another run.
 * Rounds are sequential: each round's aggregator is finalized before the next round begins.
 */
export interface Strategy {
  readonly name: string;
  beginRound(ctx: RoundContext): Aggregator;
}

/** Per-run strategy options (schema in shared/run-config.ts); each strategy reads the ones it knows. */
export type { StrategyOptions };

/** Makes the strategy instance for one run. */
export type StrategyFactory = (options: StrategyOptions) => Strategy;
