// FedAvg (McMahan et al. 2017): the next global model is the mean of the sites' weights,
// weighted by their example counts. Streaming: each update is folded into a float64 running sum
// as it arrives and can then be dropped, so memory stays O(model size).
// WeightedMeanAggregator is also the base of the other strategies' aggregators (FedProx uses it as
// is; FedAdam reads its float64 sums in its own finalize), so the folding loop exists only here.

import type { Weights } from '../../shared/tensors.js';
import { checkUpdate } from './update-check.js';
import type { AcceptResult, AggregateResult, Aggregator, RoundContext, SiteUpdate, Strategy, StrategyFactory } from './types.js';

export class WeightedMeanAggregator implements Aggregator {
  /** Σ n·x per tensor, in float64. Subclasses read it; only accept() writes it. */
  protected readonly sums: Float64Array[];
  /** Sites accepted so far. */
  protected readonly seen = new Set<string>();
  /** Σ n over accepted updates. */
  protected total = 0;

  constructor(protected readonly ctx: RoundContext) {
    this.sums = ctx.globalWeights.map((t) => new Float64Array(t.data.length));
  }

  get accepted(): number {
    return this.seen.size;
  }

  accept(update: SiteUpdate): AcceptResult {
    const verdict = checkUpdate(this.ctx, this.seen, update);
    if (!verdict.accepted) return verdict;
    const n = update.numExamples;
    update.weights.forEach((t, k) => {
      const sum = this.sums[k]!;
      const x = t.data;
      for (let i = 0; i < x.length; i++) sum[i]! += n * x[i]!;
    });
    this.total += n;
    this.seen.add(update.siteId);
    return verdict;
  }

  finalize(): AggregateResult | null {
    if (this.total === 0) return null;
    const inv = 1 / this.total;
    const weights: Weights = this.ctx.globalWeights.map((t, k) => {
      const sum = this.sums[k]!;
      const data = new Float32Array(sum.length);
      for (let i = 0; i < sum.length; i++) data[i] = sum[i]! * inv;
      return { name: t.name, shape: [...t.shape], data };
    });
    return { weights, totalExamples: this.total, contributors: this.seen.size };
  }
}

/** FedAvg has no state and no options; a fresh instance per run all the same. */
export const createFedAvg: StrategyFactory = () => ({
  name: 'fedavg',
  beginRound: (ctx) => new WeightedMeanAggregator(ctx),
});

/** A ready-made instance (stateless, so it may be shared). */
export const fedAvg: Strategy = createFedAvg({});
