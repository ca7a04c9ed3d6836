// The contract between the round runner and a strategy. A strategy only does maths: it is handed
// updates one at a time, says yes or no to each (a refusal is data, not an exception), and at the
// end produces the next global model. Memory is O(model size) whatever the number of sites.

import type { ErrorCode } from '../../shared/errors.js';
import type { NamedTensor64, TensorSpec, Weights } from '../../shared/tensors.js';

export interface SiteUpdate {
  siteId: string;
  runId: string;
  round: number;
  baseModelHash: string;
  numExamples: number;
  updateHash: string;
  weights: Weights;
}

/** A chunked update before its values: what its signed header says. */
export interface SiteUpdateStart extends Omit<SiteUpdate, 'weights'> {
  tensors: TensorSpec[];
}

/**
 * Where one site's chunked update goes, a verified chunk at a time, in order: `values` are the
 * update's flat values from `offset` (its tensors end to end in table order). A refused chunk
 * ends the stream; `abort` leaves the aggregate as if the stream had never begun, and either
 * `end` or `abort` releases whatever the sink holds (memory, spool files).
 */
export interface ChunkSink {
  acceptChunk(offset: number, values: Float32Array): AcceptResult;
  /** Every chunk arrived and the whole update matched its hash: the update counts from now on. */
  end(): AcceptResult;
  abort(): void;
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

/** What a robust rule set aside, for the round's ledger entry: a hospital sees that its update was excluded or clipped, and why. */
export interface RobustReport {
  rule: string;
  /** Updates left out of the aggregate whole. */
  excluded: { siteId: string; reason: string }[];
  /** Updates scaled down (centered clipping), by what factor. */
  clipped: { siteId: string; factor: number }[];
  /** Share of coordinates at which each site's value was trimmed away (trimmed mean, median). */
  trimmed: { siteId: string; share: number }[];
}

export interface AggregateResult {
  weights: Weights;
  totalExamples: number;
  contributors: number;
  /** Robust strategies only. */
  robust?: RobustReport;
}

/**
 * Many sites' contribution already summed (secure aggregation, or a private sum with its noise):
 * Σ wᵢ·xᵢ per tensor in float64, over `contributors` with Σ wᵢ = `totalWeight`. The sites in it can
 * no longer be told apart, so it is judged whole.
 */
export interface SummedUpdate {
  sums: Float64Array[];
  totalWeight: number;
  contributors: readonly string[];
}

export interface Aggregator {
  accept(update: SiteUpdate): AcceptResult;
  /**
   * Opens a chunked update, checked as accept() checks a whole one (run, round, site, base model,
   * shapes), or refuses it. Aggregators without it get the update whole, reassembled in memory.
   */
  beginStream?(update: SiteUpdateStart): { accepted: true; sink: ChunkSink } | Extract<AcceptResult, { accepted: false }>;
  /** Folds a summed contribution; strategies that need each update apart do not offer it. */
  acceptSum?(sum: SummedUpdate): AcceptResult;
  readonly accepted: number;
  /** The next global model, or null when nothing was accepted (keep the previous one). */
  finalize(): AggregateResult | null;
}

/**
 * What a strategy keeps across a run's rounds, as named tensors: float64, so state held in
 * float64 (FedAdam's moments) survives a coordinator restart bit for bit (shared/tensor-codec.ts
 * encodeFrame64 stores it; state-codec.ts).
 */
export type StrategyState = NamedTensor64[];

/**
 * One strategy instance lives for one run: it may keep state across that run's rounds (FedAdam's
 * moments), so a run gets a fresh instance from its descriptor and never shares it with another run.
 * Rounds are sequential: each round's aggregator is finalized before the next round begins.
 */
export interface Strategy {
  readonly name: string;
  beginRound(ctx: RoundContext): Aggregator;
  /**
   * A copy of everything the strategy must keep across a coordinator restart, to be saved with the
   * round just committed and handed back to its factory on resume; null when it keeps nothing.
   */
  snapshot(): StrategyState | null;
}
