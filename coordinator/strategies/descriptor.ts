// What a strategy module exports: one descriptor saying what the strategy is called, what it
// does in one line, which options it takes (a TypeBox object: bounds, defaults and descriptions
// stated once) and how to make it. registry.ts lists the descriptors; the run configuration,
// POST /v1/runs and `fedrx run start` derive their views of the options from them.

import type { Static, TObject, TOptional, TSchema } from '@sinclair/typebox';
import type { Strategy, StrategyState } from './types.js';

/** A strategy's options: each may be left out, and then its schema's `default` applies. */
export type OptionProperties = { [option: string]: TOptional<TSchema> };

/** The options a factory receives: every one present, defaults filled in by the registry. */
export type ResolvedOptions<P extends OptionProperties> = Required<Static<TObject<P>>>;

/** What the sites need from a run's strategy, sent with every task (shared/run-config.ts TaskConfig). */
export interface SiteTaskOptions {
  /** FedProx: weight of the proximal term in the sites' local loss; 0 for plain local training. */
  proximalMu: number;
}

interface Described<N extends string, P extends OptionProperties> {
  readonly name: N;
  /** One line for `fedrx run start --help`. */
  readonly summary: string;
  readonly options: TObject<P>;
}

/** A strategy the round runner drives round by round: an aggregator per round, state across rounds. */
export interface IterativeStrategyDescriptor<N extends string = string, P extends OptionProperties = OptionProperties> extends Described<N, P> {
  readonly kind: 'iterative';
  /** A fresh instance for one run; `saved` is a snapshot() of an earlier instance of the same run, to resume it. */
  create(options: ResolvedOptions<P>, saved: StrategyState | null): Strategy;
  /** What the sites need from the options; absent: nothing (proximalMu 0). */
  siteOptions?(options: ResolvedOptions<P>): SiteTaskOptions;
  /**
   * True when the strategy needs only the weighted sum of the updates (its aggregators offer
   * acceptSum), so it runs over secure aggregation; a robust rule that looks at each update does not.
   */
  readonly sumsSecurely: boolean;
  /** Why these options cannot work for a run that closes rounds with `minSites` updates, or null. */
  checkRun?(options: ResolvedOptions<P>, run: { minSites: number }): string | null;
}

/** Not iterative: one request for the sites' sufficient statistics and a solve (coordinator/rounds/exact/). */
export interface ExactStrategyDescriptor<N extends string = string, P extends OptionProperties = OptionProperties> extends Described<N, P> {
  readonly kind: 'exact';
}

export type StrategyDescriptor = IterativeStrategyDescriptor | ExactStrategyDescriptor;
