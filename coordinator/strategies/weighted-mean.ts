// The example-weighted mean of the sites' weights, streaming: each update is folded into a float64
// running sum as it arrives and can then be dropped, so memory stays O(model size) (two sums: the
// current one and the one the next whole update is folded into). FedAvg and FedProx finalize it as
// is; FedAdam takes its server step from the same sums. A chunked update is folded a chunk at a
// time straight into the sum (see beginStream), so it needs only the one sum.

import { segments } from '../../shared/update-chunks.js';
import { firstNonFinite, type NamedTensor } from '../../shared/tensors.js';
import { foldWeighted, meanOf, unfoldWeighted } from './aggregate.js';
import { ChunkSpool } from './chunk-spool.js';
import { checkUpdate, chunkNonFinite } from './update-check.js';
import type { AcceptResult, AggregateResult, Aggregator, ChunkSink, RoundContext, SiteUpdate, SiteUpdateStart, SummedUpdate } from './types.js';

/** Values read back per block when a failed stream is subtracted out. */
const UNFOLD_BLOCK = 1 << 20;

export class WeightedMeanAggregator implements Aggregator {
  /** Σ n·x per tensor over the accepted updates, in float64. Subclasses read it; only this class changes it. */
  protected sums: Float64Array[];
  /** Where the next whole update is folded; it becomes `sums` only once the update proved finite. Made on first use. */
  private spareSums: Float64Array[] | null = null;
  /** Sites accepted so far. */
  protected readonly seen = new Set<string>();
  /** Sites whose chunked update is being folded in. */
  private readonly streaming = new Set<string>();
  /** Σ n over accepted updates. */
  protected total = 0;

  constructor(protected readonly ctx: RoundContext) {
    // Committed now (fill touches every page): the round takes its memory when it opens, so a
    // coordinator that lacks it fails before any site uploads, not halfway through one.
    this.sums = ctx.globalWeights.map((t) => new Float64Array(t.data.length).fill(0));
  }

  private get spare(): Float64Array[] {
    return (this.spareSums ??= this.ctx.globalWeights.map((t) => new Float64Array(t.data.length)));
  }

  private set spare(s: Float64Array[]) {
    this.spareSums = s;
  }

  get accepted(): number {
    return this.seen.size;
  }

  accept(update: SiteUpdate): AcceptResult {
    const verdict = checkUpdate(this.ctx, this.taken(), update);
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

  /**
   * A chunked update, folded into the running sum as its chunks arrive. A stream that fails after
   * some chunks were folded is subtracted back out, read from a disk spool of its chunks. Chosen
   * over spooling everything and folding at the end because the sum is then ready when the last
   * chunk lands, and a complete stream's result equals the one-frame path's exactly (per
   * coordinate, the same additions in the order the updates reached it). The price: when a failed stream is subtracted, each coordinate it
   * touched is restored up to float64 rounding (exactly, when no sum needed rounding), far below the
   * float32 the mean is rounded to.
   */
  beginStream(start: SiteUpdateStart): { accepted: true; sink: ChunkSink } | Extract<AcceptResult, { accepted: false }> {
    const verdict = checkUpdate(this.ctx, this.taken(), start);
    if (!verdict.accepted) return verdict;
    const n = start.numExamples;
    const sizes = this.ctx.globalWeights.map((t) => t.data.length);
    const spool = new ChunkSpool();
    /** Applies `f` to each tensor's part of the sum that flat values [offset, offset + values.length) cover. */
    const atSums = (offset: number, values: Float32Array, f: (sum: Float64Array, x: Float32Array) => void): void => {
      for (const s of segments(sizes, offset, values.length)) f(this.sums[s.tensor]!.subarray(s.from, s.from + s.count), values.subarray(s.at, s.at + s.count));
    };
    this.streaming.add(start.siteId);
    const release = (): void => {
      spool.close();
      this.streaming.delete(start.siteId);
    };
    const sink: ChunkSink = {
      acceptChunk: (offset, values) => {
        // Checked before folding: a non-finite value never reaches the sum.
        const bad = chunkNonFinite(offset, values);
        if (bad !== null) return bad;
        spool.write(offset, values);
        atSums(offset, values, (sum, x) => foldWeighted(sum, sum, n, x));
        return { accepted: true };
      },
      end: () => {
        release();
        this.total += n;
        this.seen.add(start.siteId);
        return { accepted: true };
      },
      abort: () => {
        spool.forEachBlock(UNFOLD_BLOCK, (offset, values) => atSums(offset, values, (sum, x) => unfoldWeighted(sum, n, x)));
        release();
      },
    };
    return { accepted: true, sink };
  }

  /** Sites counted in, or being streamed in: a second update from one of them is refused. */
  private taken(): ReadonlySet<string> {
    return this.streaming.size === 0 ? this.seen : new Set([...this.seen, ...this.streaming]);
  }

  /** Adds a sum of several sites' weighted weights (each site counted once, in a sum or alone). */
  acceptSum(sum: SummedUpdate): AcceptResult {
    const refusal = checkSum(this.ctx, this.taken(), sum);
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
