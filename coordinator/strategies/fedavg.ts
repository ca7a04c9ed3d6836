// FedAvg (McMahan et al. 2017): the next global model is the mean of the sites' weights,
// weighted by their example counts. Streaming: each update is folded into a float64 running sum
// as it arrives and can then be dropped, so memory stays O(model size).

import type { Weights } from '../../shared/tensors.js';
import { checkUpdate } from './update-check.js';
import type { AcceptResult, AggregateResult, Aggregator, RoundContext, SiteUpdate, Strategy } from './types.js';

export class WeightedMeanAggregator implements Aggregator {
  private readonly sums: Float64Array[];
  private readonly seen = new Set<string>();
  private total = 0;

  constructor(private readonly ctx: RoundContext) {
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

export const fedAvg: Strategy = {
  name: 'fedavg',
  beginRound: (ctx) => new WeightedMeanAggregator(ctx),
};
