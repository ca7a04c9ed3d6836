// A training round's phase: the selected sites get the global model and the task, train on their
// rows and send back signed updates. Each update is checked against its hash and folded into the
// strategy's aggregator as it arrives (memory O(model), whatever the number of sites); an update
// too large for one frame arrives as a stream of chunks, folded chunk by chunk (streamed-updates.ts).

import { hashWeights } from '../../shared/model-hash.js';
import type { TaskDp } from '../../shared/privacy/dp-settings.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';
import type { SiteOutcome } from '../store/store.js';
import type { Aggregator } from '../strategies/types.js';
import { admissionRefusal, phaseOutcomes, refuse, type Phase, type SiteMessage, type Verdict } from './phase.js';
import { RoundCollector } from './round-collector.js';
import { StreamedUpdates } from './streamed-updates.js';

export interface TrainReport {
  numExamples: number;
  updateHash: string;
  trainLoss: number;
  /** The site's signature over its update, carried into the ledger entry. */
  signature: string;
}

export class TrainingPhase implements Phase<TrainReport> {
  readonly name = 'training';
  readonly answers = 'update';
  readonly collector: RoundCollector<TrainReport>;
  readonly request: Buffer;
  private readonly streams: StreamedUpdates<TrainReport>;

  constructor(
    runId: string,
    round: number,
    global: { weights: Weights; modelHash: string },
    task: TaskConfig,
    private readonly aggregator: Aggregator,
    asked: ReadonlySet<string>,
    deadlineMs: number,
    dp?: TaskDp,
  ) {
    this.collector = new RoundCollector(runId, round, asked, deadlineMs);
    this.streams = new StreamedUpdates(this.collector, aggregator, (h) => ({ numExamples: h.numExamples, updateHash: h.updateHash, trainLoss: h.trainLoss, signature: h.signature }));
    this.request = encodeFrame({ v: PROTOCOL_VERSION, kind: 'train', runId, round, modelHash: global.modelHash, config: task, ...(dp === undefined ? {} : { dp }) }, global.weights);
  }

  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind === 'update-stream') return this.streams.accept(siteId, m.header, m.part);
    if (m.kind !== 'update') throw new TypeError(`training phase got ${m.kind}`);
    const { header, weights } = m;
    const early = admissionRefusal(this.collector, siteId, header, 'training');
    if (early !== null) return early;
    if (hashWeights(weights) !== header.updateHash) return refuse(this.collector, siteId, 'E_HASH_MISMATCH', 'updateHash does not match the update bytes');
    const verdict = this.aggregator.accept({ ...header, weights });
    if (!verdict.accepted) return refuse(this.collector, siteId, verdict.code, verdict.reason);
    this.collector.record(siteId, {
      kind: 'ok',
      value: { numExamples: header.numExamples, updateHash: header.updateHash, trainLoss: header.trainLoss, signature: header.signature },
    });
    return { accepted: true };
  }

  /** Every selected site's outcome, and how many updates the aggregator holds. */
  results(): { outcomes: SiteOutcome[]; accepted: number } {
    this.streams.abortAll();
    return { outcomes: phaseOutcomes(this.collector, 'update', (r) => ({ ...r })), accepted: this.aggregator.accepted };
  }
}
