// The aggregator of the rules that need every update at once: each accepted update is checked as
// FedAvg's are, then kept in an UpdateBuffer (memory up to a budget, then a temporary file); the
// rule runs at finalize, a block of coordinates at a time.

import { firstNonFinite, sizeOf, type Weights } from '../../../shared/tensors.js';
import { checkUpdate, chunkNonFinite } from '../update-check.js';
import type { AcceptResult, AggregateResult, Aggregator, ChunkSink, RobustReport, RoundContext, SiteUpdate, SiteUpdateStart } from '../types.js';
import { bufferBudget, UpdateBuffer } from './update-buffer.js';

/** Coordinates read per block when the rule runs. */
export const BLOCK = 16_384;

export abstract class BufferedAggregator implements Aggregator {
  protected readonly buffer: UpdateBuffer;
  private examples = 0;
  private result: AggregateResult | null = null;
  /** Sites whose chunked update is being written into the buffer. */
  private readonly streaming = new Set<string>();

  constructor(protected readonly ctx: RoundContext) {
    this.buffer = new UpdateBuffer(ctx.globalWeights.reduce((n, t) => n + sizeOf(t.shape), 0), bufferBudget());
  }

  get accepted(): number {
    return this.buffer.count;
  }

  accept(update: SiteUpdate): AcceptResult {
    if (this.result !== null) return { accepted: false, code: 'E_STALE_ROUND', reason: `round ${this.ctx.round} is already aggregated` };
    const verdict = checkUpdate(this.ctx, this.taken(), update);
    if (!verdict.accepted) return verdict;
    const bad = firstNonFinite(update.weights);
    if (bad !== null) return { accepted: false, code: 'E_NON_FINITE', reason: `tensor ${bad[0]} holds a non-finite value at ${bad[1]}` };
    this.buffer.add(update.siteId, update.weights);
    this.examples += update.numExamples;
    return verdict;
  }

  /** A chunked update, written into the buffer (memory within its budget, else its spill file) as it arrives; kept at its end. */
  beginStream(start: SiteUpdateStart): { accepted: true; sink: ChunkSink } | Extract<AcceptResult, { accepted: false }> {
    if (this.result !== null) return { accepted: false, code: 'E_STALE_ROUND', reason: `round ${this.ctx.round} is already aggregated` };
    const verdict = checkUpdate(this.ctx, this.taken(), start);
    if (!verdict.accepted) return verdict;
    const slot = this.buffer.open();
    this.streaming.add(start.siteId);
    const sink: ChunkSink = {
      acceptChunk: (offset, values) => {
        const bad = chunkNonFinite(offset, values);
        if (bad !== null) return bad;
        slot.write(offset, values);
        return { accepted: true };
      },
      end: () => {
        this.streaming.delete(start.siteId);
        slot.commit(start.siteId);
        this.examples += start.numExamples;
        return { accepted: true };
      },
      abort: () => {
        this.streaming.delete(start.siteId);
        slot.discard();
      },
    };
    return { accepted: true, sink };
  }

  private taken(): ReadonlySet<string> {
    return new Set([...this.buffer.sites, ...this.streaming]);
  }

  finalize(): AggregateResult | null {
    if (this.result !== null) return this.result;
    if (this.buffer.count === 0) return null;
    try {
      const { flat, report, contributors } = this.combine();
      this.result = { weights: unflatten(flat, this.ctx.globalWeights), totalExamples: this.examples, contributors, robust: report };
      return this.result;
    } finally {
      this.buffer.close();
    }
  }

  /** The rule: the aggregate as one flat vector, what it set aside, and how many updates it used. */
  protected abstract combine(): { flat: Float32Array; report: RobustReport; contributors: number };
}

export function unflatten(flat: Float32Array, like: Weights): Weights {
  let at = 0;
  return like.map((t) => {
    const data = flat.slice(at, at + t.data.length);
    at += t.data.length;
    return { name: t.name, shape: [...t.shape], data };
  });
}
