// One step of a federated iterative solve (conjugate gradient for wide ridge, Newton for logistic),
// shaped as a phase: ask the participants for their vector at this step → collect with a deadline
// → check each answer (length, finite, example count, the transcript hash the site signed) → hand
// back the answers as data.

import { nextTranscript } from '../../../shared/exact/transcript.js';
import { isFedrxError, FedrxError } from '../../../shared/errors.js';
import { encodeFrame64 } from '../../../shared/tensor-codec.js';
import type { NamedTensor64 } from '../../../shared/tensors.js';
import { PROTOCOL_VERSION, type ExactProductHeader } from '../../../shared/wire.js';
import { RoundCollector } from '../round-collector.js';
import type { SiteOutcome } from '../../store/store.js';
import { admissionRefusal, phaseOutcomes, refuse, type Phase, type SiteMessage, type Verdict } from '../phase.js';

/** What the coordinator knows of a participant after a step: its chain link, signature and rows. */
export interface ProductSite {
  transcript: string | null;
  signature: string;
  numExamples: number;
}

export class ExactProductPhase implements Phase<{ v: Float64Array; site: ProductSite }> {
  readonly name: string;
  readonly answers = 'exact-product';
  readonly collector: RoundCollector<{ v: Float64Array; site: ProductSite }>;

  constructor(
    readonly runId: string,
    readonly round: number,
    readonly step: number,
    /** What the sites receive: the exact-request at step 0, then `stepRequest(p)`. */
    readonly request: Buffer | string,
    private readonly baseModelHash: string,
    /** The length a site's vector must have, given its example count. */
    private readonly answerLength: (numExamples: number) => number,
    /** Step 0: every asked site with transcript null; later: the participants' previous links. */
    private readonly sites: ReadonlyMap<string, ProductSite>,
    deadlineMs: number,
  ) {
    this.collector = new RoundCollector(runId, round, new Set(sites.keys()), deadlineMs);
    this.name = `exact step ${step}`;
  }

  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind !== 'exact-product') throw new TypeError(`exact product phase got ${m.kind}`);
    const { header, tensors } = m;
    if (header.step !== this.step && header.runId === this.runId && header.round === this.round) {
      return { accepted: false, code: 'E_STALE_ROUND', reason: `step ${this.step} of the solve is open, not ${header.step}` };
    }
    const early = admissionRefusal(this.collector, siteId, header, `step ${this.step} of the solve`);
    if (early !== null) return early;
    const known = this.sites.get(siteId)!;
    try {
      if (header.baseModelHash !== this.baseModelHash) throw new FedrxError('E_BASE_MODEL', 'answer signed against another base model');
      if (this.step > 0 && header.numExamples !== known.numExamples) throw new FedrxError('E_BAD_EXAMPLES', `numExamples changed from ${known.numExamples} to ${header.numExamples}`);
      const len = this.answerLength(header.numExamples);
      const t = tensors[0];
      if (tensors.length !== 1 || t === undefined || t.name !== 'v' || t.shape.length !== 1 || t.shape[0] !== len) {
        throw new FedrxError('E_SHAPE_MISMATCH', `expected one tensor v [${len}]`);
      }
      if (!t.data.every(Number.isFinite)) throw new FedrxError('E_NON_FINITE', 'the answer holds a non-finite value');
      const link = nextTranscript(known.transcript, tensors);
      if (link !== header.updateHash) throw new FedrxError('E_HASH_MISMATCH', 'updateHash is not the transcript of the answers sent');
      this.collector.record(siteId, { kind: 'ok', value: { v: t.data, site: { transcript: link, signature: header.signature, numExamples: header.numExamples } } });
      return { accepted: true };
    } catch (e) {
      if (!isFedrxError(e)) throw e;
      return refuse(this.collector, siteId, e.code, e.message);
    }
  }

  /** The accepted vectors (by site id), the participants' new links, and every asked site's outcome. */
  results(): { answers: { siteId: string; n: number; v: Float64Array }[]; sites: Map<string, ProductSite>; outcomes: SiteOutcome[] } {
    const answers: { siteId: string; n: number; v: Float64Array }[] = [];
    const sites = new Map<string, ProductSite>();
    for (const [siteId, a] of this.collector.ok().sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      answers.push({ siteId, n: a.site.numExamples, v: a.v });
      sites.set(siteId, a.site);
    }
    const outcomes = phaseOutcomes(this.collector, `answer to step ${this.step}`, (a) => ({ numExamples: a.site.numExamples, updateHash: a.site.transcript!, signature: a.site.signature }));
    return { answers, sites, outcomes };
  }
}

/** The binary request of step ≥ 1: the vector the sites multiply by. */
export function stepRequest(runId: string, round: number, step: number, p: Float64Array): Buffer {
  return encodeFrame64({ v: PROTOCOL_VERSION, kind: 'exact-product-request', runId, round, step }, [{ name: 'p', shape: [p.length], data: p }]);
}

/** Element-wise sum of equally long vectors. */
export function sumVectors(vs: readonly { v: Float64Array }[], length: number): Float64Array {
  const sum = new Float64Array(length);
  for (const { v } of vs) for (let i = 0; i < length; i++) sum[i]! += v[i]!;
  return sum;
}
