// The example-weighted mean of the sites' weights, streaming: each update is folded into a float64
// running sum as it arrives and can then be dropped, so memory stays O(model size) (two sums: the
// current one and the one the next update is folded into). FedAvg and FedProx finalize it as is;
// FedAdam takes its server step from the same sums.

import { firstNonFinite, type NamedTensor } from '../../shared/tensors.js';
import { foldWeighted, meanOf } from './aggregate.js';
import { checkUpdate } from './update-check.js';
import type { AcceptResult, AggregateResult, Aggregator, RoundContext, SiteUpdate, SummedUpdate } from './types.js';

export class WeightedMeanAggregator implements Aggregator {
  /** Σ n·x per tensor over the accepted updates, in float64. Subclasses read it; only accept() changes it. */
  protected sums: Float64Array[];
  /** Where the next update is folded; it becomes `sums` only once the whole update proved finite. */
  private spare: Float64Array[];
  /** Sites accepted so far. */
  protected readonly seen = new Set<string>();
  /** Σ n over accepted updates. */
  protected total = 0;

  constructor(protected readonly ctx: RoundContext) {
    this.sums = ctx.globalWeights.map((t) => new Float64Array(t.data.length));
    this.spare = ctx.globalWeights.map((t) => new Float64Array(t.data.length));
  }

  get accepted(): number {
    return this.seen.size;
  }

  accept(update: SiteUpdate): AcceptResult {
    const verdict = checkUpdate(this.ctx, this.seen, update);
    if (!verdict.accepted) return verdict;
    const n = update.numExamples;
    for (let k = 0; k < update.weights.length; k++) {
      const t = update.weights[k]!;
      if (!foldWeighted(this.spare[k]!, this.sums[k]!, n, t.data)) return nonFinite(t);
    }
    [this.sums, this.spare] = [this.spare, this.sums];
    this.total += n;
    this.seen.add(update.siteId);
    return verdict;
  }

  /** Adds a sum of several sites' weighted weights (each site counted once, in a sum or alone). */
  acceptSum(sum: SummedUpdate): AcceptResult {
    const refusal = checkSum(this.ctx, this.seen, sum);
    if (refusal !== null) return refusal;
    for (let k = 0; k < sum.sums.length; k++) {
      const x = sum.sums[k]!;
      const dst = this.spare[k]!;
      const src = this.sums[k]!;
      let bad = 0;
      for (let i = 0; i < x.length; i++) {
        const v = src[i]! + x[i]!;
        dst[i] = v;
        bad += v * 0; // NaN once any v is NaN or ±Infinity (aggregate.ts foldWeighted)
      }
      if (bad !== 0) return { accepted: false, code: 'E_NON_FINITE', reason: `the summed tensor ${this.ctx.globalWeights[k]!.name} holds a non-finite value` };
    }
    [this.sums, this.spare] = [this.spare, this.sums];
    this.total += sum.totalWeight;
    for (const site of sum.contributors) this.seen.add(site);
    return { accepted: true };
  }

  finalize(): AggregateResult | null {
    if (this.total === 0) return null;
    const weights = this.ctx.globalWeights.map((t, k) => ({ name: t.name, shape: [...t.shape], data: meanOf(this.sums[k]!, this.total) }));
    return { weights, totalExamples: this.total, contributors: this.seen.size };
  }
}

/** Why a summed contribution cannot be folded: its sites, its weight or its shapes. */
function checkSum(ctx: RoundContext, alreadyIn: ReadonlySet<string>, sum: SummedUpdate): AcceptResult | null {
  const stranger = sum.contributors.find((s) => !ctx.selected.has(s));
  if (stranger !== undefined) return { accepted: false, code: 'E_NOT_SELECTED', reason: `site ${stranger} was not selected for round ${ctx.round}` };
  const twice = sum.contributors.find((s, i) => alreadyIn.has(s) || sum.contributors.indexOf(s) !== i);
  if (twice !== undefined) return { accepted: false, code: 'E_DUPLICATE_UPDATE', reason: `site ${twice} is counted twice in round ${ctx.round}` };
  if (!(sum.totalWeight > 0) || !Number.isFinite(sum.totalWeight)) return { accepted: false, code: 'E_BAD_EXAMPLES', reason: 'the summed weight must be positive and finite' };
  const bad = ctx.globalWeights.findIndex((t, k) => sum.sums[k]?.length !== t.data.length);
  if (bad !== -1 || sum.sums.length !== ctx.globalWeights.length) {
    return { accepted: false, code: 'E_SHAPE_MISMATCH', reason: `the sum holds ${sum.sums.length} tensors, not the model's ${ctx.globalWeights.length} of its sizes` };
  }
  return null;
}

/** The refusal of an update whose tensor `t` holds NaN or ±Infinity (the rare path: one more scan, for the index). */
function nonFinite(t: NamedTensor): AcceptResult {
  const at = firstNonFinite([t])?.[1] ?? -1;
  return { accepted: false, code: 'E_NON_FINITE', reason: `tensor ${t.name} holds a non-finite value at ${at}` };
}
