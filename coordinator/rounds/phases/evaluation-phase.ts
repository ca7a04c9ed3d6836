// A round's last phase: the sites that trained score the new model on their held-out (and
// validation) rows and send back sums, never rows, so the round's metrics are exact, as if pooled.

import type { TaskConfig } from '../../../shared/run-config.js';
import { encodeFrame } from '../../../shared/tensor-codec.js';
import type { Weights } from '../../../shared/tensors.js';
import { PROTOCOL_VERSION, type EvalResult } from '../../../shared/wire.js';
import { admissionRefusal, refuse, type Phase, type SiteMessage, type Verdict } from '../phase.js';
import { RoundCollector } from '../round-collector.js';

export type EvalReport = Pick<EvalResult, 'numExamples' | 'loss' | 'sums' | 'validation'>;

export class EvaluationPhase implements Phase<EvalReport> {
  readonly name = 'evaluation';
  readonly answers = 'eval-result';
  readonly collector: RoundCollector<EvalReport>;
  readonly request: Buffer;

  constructor(
    runId: string,
    round: number,
    private readonly model: { weights: Weights; modelHash: string },
    task: TaskConfig,
    asked: ReadonlySet<string>,
    deadlineMs: number,
  ) {
    this.collector = new RoundCollector(runId, round, asked, deadlineMs);
    this.request = encodeFrame({ v: PROTOCOL_VERSION, kind: 'evaluate', runId, round, modelHash: model.modelHash, config: task }, model.weights);
  }

  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind !== 'eval-result') throw new TypeError(`evaluation phase got ${m.kind}`);
    const { msg } = m;
    const early = admissionRefusal(this.collector, siteId, msg, 'evaluation');
    if (early !== null) return early;
    if (msg.modelHash !== this.model.modelHash) return refuse(this.collector, siteId, 'E_STALE_ROUND', 'the evaluation is of another model');
    this.collector.record(siteId, { kind: 'ok', value: { numExamples: msg.numExamples, loss: msg.loss, sums: msg.sums, validation: msg.validation } });
    return { accepted: true };
  }

  /** The accepted evaluations by site. */
  results(): Map<string, EvalReport> {
    return new Map(this.collector.ok());
  }
}
