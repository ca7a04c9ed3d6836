// Centered clipping (Karimireddy, He and Jaggi 2021), one iteration around the global model,
// streaming: each update's difference from the global model is scaled to at most τ in L2 norm and
// folded into a float64 sum as it arrives (memory O(model)); the next model is the global model
// plus the mean of the clipped differences. Clipped sites are reported with their factor.

import { sizeOf } from '../../../shared/tensors.js';
import { checkUpdate } from '../update-check.js';
import type { AcceptResult, AggregateResult, Aggregator, RoundContext, SiteUpdate } from '../types.js';
import { clipFactor } from './robust-maths.js';

export class CenteredClippingAggregator implements Aggregator {
  private readonly sum: Float64Array[];
  private readonly seen: string[] = [];
  private readonly clipped: { siteId: string; factor: number }[] = [];
  private examples = 0;
  private result: AggregateResult | null = null;

  constructor(
    private readonly ctx: RoundContext,
    private readonly tau: number,
  ) {
    this.sum = ctx.globalWeights.map((t) => new Float64Array(sizeOf(t.shape)));
  }

  get accepted(): number {
    return this.seen.length;
  }

  accept(update: SiteUpdate): AcceptResult {
    if (this.result !== null) return { accepted: false, code: 'E_STALE_ROUND', reason: `round ${this.ctx.round} is already aggregated` };
    const verdict = checkUpdate(this.ctx, new Set(this.seen), update);
    if (!verdict.accepted) return verdict;
    let norm2 = 0;
    for (let k = 0; k < update.weights.length; k++) {
      const x = update.weights[k]!.data;
      const g = this.ctx.globalWeights[k]!.data;
      for (let i = 0; i < x.length; i++) norm2 += (x[i]! - g[i]!) ** 2;
    }
    // Checked before anything is folded, so a refusal leaves the sum as it was.
    if (!Number.isFinite(norm2)) return { accepted: false, code: 'E_NON_FINITE', reason: 'the update holds a non-finite value' };
    const factor = clipFactor(Math.sqrt(norm2), this.tau);
    for (let k = 0; k < update.weights.length; k++) {
      const x = update.weights[k]!.data;
      const g = this.ctx.globalWeights[k]!.data;
      const s = this.sum[k]!;
      for (let i = 0; i < x.length; i++) s[i]! += factor * (x[i]! - g[i]!);
    }
    this.seen.push(update.siteId);
    this.examples += update.numExamples;
    if (factor < 1) this.clipped.push({ siteId: update.siteId, factor });
    return verdict;
  }

  finalize(): AggregateResult | null {
    if (this.result !== null) return this.result;
    const n = this.seen.length;
    if (n === 0) return null;
    const weights = this.ctx.globalWeights.map((t, k) => {
      const s = this.sum[k]!;
      return { name: t.name, shape: [...t.shape], data: Float32Array.from(t.data, (g, i) => g + s[i]! / n) };
    });
    this.result = { weights, totalExamples: this.examples, contributors: n, robust: { rule: `centered-clipping τ=${this.tau}`, excluded: [], clipped: [...this.clipped], trimmed: [] } };
    return this.result;
  }
}
