// DP-FedAvg's aggregation (McMahan et al. 2018), around any strategy that folds a summed
// contribution: each update's change from the global model must lie within the clip C (sites clip
// before they sign; a longer one is refused, not clipped here, since it was signed as sent), every
// site counts once (weight 1, not its example count, so one site's influence on the sum is at most
// C), and the sum of changes gets N(0, (Z·C)²) noise per coordinate before the strategy sees it.
// The strategy then only ever holds the noisy sum.

import { FedrxError } from '../../shared/errors.js';
import { clipTolerance, deltaNorm } from '../../shared/privacy/private-update.js';
import type { AcceptResult, AggregateResult, Aggregator, RoundContext, SiteUpdate } from './types.js';
import { checkUpdate } from './update-check.js';

export interface PrivateSumSettings {
  clip: number;
  /** Standard deviation of the noise the coordinator adds to each coordinate of the sum (Z·C; 0 when the sites added it). */
  noiseStd: number;
}

export class PrivateSumAggregator implements Aggregator {
  /** Σ (local − global) per tensor over the accepted updates, in float64. */
  private readonly deltas: Float64Array[];
  private readonly seen = new Set<string>();

  constructor(
    private readonly ctx: RoundContext,
    private readonly inner: Aggregator,
    private readonly settings: PrivateSumSettings,
    private readonly normal: () => number,
  ) {
    if (inner.acceptSum === undefined) throw new FedrxError('E_DP_SETTINGS', 'this strategy needs each update apart and cannot aggregate a private sum');
    this.deltas = ctx.globalWeights.map((t) => new Float64Array(t.data.length));
  }

  get accepted(): number {
    return this.seen.size;
  }

  accept(update: SiteUpdate): AcceptResult {
    const verdict = checkUpdate(this.ctx, this.seen, update);
    if (!verdict.accepted) return verdict;
    const norm = deltaNorm(this.ctx.globalWeights, update.weights);
    if (!Number.isFinite(norm)) return { accepted: false, code: 'E_NON_FINITE', reason: 'the update holds a non-finite value' };
    if (norm > clipTolerance(this.settings.clip, update.weights)) {
      return { accepted: false, code: 'E_CLIP_EXCEEDED', reason: `the update's change has L2 norm ${norm.toPrecision(6)}, over the run's clip ${this.settings.clip}` };
    }
    // Checked whole before folding, so a refused update never touches the sum.
    this.ctx.globalWeights.forEach((g, k) => {
      const d = this.deltas[k]!;
      const l = update.weights[k]!.data;
      for (let i = 0; i < d.length; i++) d[i] = d[i]! + (l[i]! - g.data[i]!);
    });
    this.seen.add(update.siteId);
    return verdict;
  }

  /** Σ (global + Δᵢ) + noise = m·global + ΣΔ + noise, handed to the strategy as m sites of weight 1. */
  finalize(): AggregateResult | null {
    const m = this.seen.size;
    if (m === 0) return null;
    const { noiseStd } = this.settings;
    const sums = this.ctx.globalWeights.map((g, k) => {
      const d = this.deltas[k]!;
      for (let i = 0; i < d.length; i++) d[i] = m * g.data[i]! + d[i]! + (noiseStd === 0 ? 0 : noiseStd * this.normal());
      return d;
    });
    const verdict = this.inner.acceptSum!({ sums, totalWeight: m, contributors: [...this.seen] });
    if (!verdict.accepted) throw new FedrxError(verdict.code, `the private sum was refused by the strategy: ${verdict.reason}`);
    return this.inner.finalize();
  }
}
