// A training round's phase: the selected sites get the global model and the task, train on their
// rows and send back signed updates. Each update is checked against its hash and folded into the
// strategy's aggregator as it arrives (memory O(model), whatever the number of sites); an update
// too large for one frame arrives as a stream of chunks, folded chunk by chunk (streamed-updates.ts).
// A run that compresses its updates takes only compressed ones: each is decoded and added to the
// global model (shared/compression/update-codec.ts) before the same checks and fold.

import { describeCompression, type Compression } from '../../shared/compression/settings.js';
import { reconstructUpdate } from '../../shared/compression/update-codec.js';
import type { CompressedUpdateHeader } from '../../shared/compression/wire.js';
import { isFedrxError, type ErrorCode } from '../../shared/errors.js';
import type { SignedHead } from '../../shared/ledger-head.js';
import { hashWeights } from '../../shared/model-hash.js';
import type { TaskDp } from '../../shared/privacy/dp-settings.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import type { UpdateStreamHeader } from '../../shared/update-chunks.js';
import { PROTOCOL_VERSION, type UpdateHeader } from '../../shared/wire.js';
import type { SiteOutcome } from '../store/store.js';
import type { Aggregator } from '../strategies/types.js';
import { childHeadRefusal } from './child-head.js';
import { admissionRefusal, phaseOutcomes, refuse, type Phase, type SiteMessage, type Verdict } from './phase.js';
import { RoundCollector } from './round-collector.js';
import { StreamedUpdates } from './streamed-updates.js';

export interface TrainReport {
  numExamples: number;
  updateHash: string;
  trainLoss: number;
  /** The site's signature over its update, carried into the ledger entry. */
  signature: string;
  /** The update's frame as received, in bytes. */
  updateBytes?: number;
  /** A regional agent's update: its regional coordinator's signed head (checked by child-head.ts). */
  childHead?: SignedHead;
}

export class TrainingPhase implements Phase<TrainReport> {
  readonly name = 'training';
  /** Both kinds, so a site that sends the other one than the run's is refused with a reason (E_COMPRESSED_UPDATE). */
  readonly answers = ['update', 'compressed-update'] as const;
  readonly collector: RoundCollector<TrainReport>;
  readonly request: Buffer;
  private readonly streams: StreamedUpdates<TrainReport>;
  private readonly global: Weights;
  private readonly compression: Compression | undefined;

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
    this.streams = new StreamedUpdates(this.collector, aggregator, (h) => ({ numExamples: h.numExamples, updateHash: h.updateHash, trainLoss: h.trainLoss, signature: h.signature, ...childOf(h) }));
    this.global = global.weights;
    this.compression = task.compression;
    this.request = encodeFrame({ v: PROTOCOL_VERSION, kind: 'train', runId, round, modelHash: global.modelHash, config: task, ...(dp === undefined ? {} : { dp }) }, global.weights);
  }

  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind === 'update-stream') {
      // A compressed update is small: a stream of float32 weights is the other kind.
      if (this.compression !== undefined) return refuse(this.collector, siteId, 'E_COMPRESSED_UPDATE', `the run sends its updates as ${describeCompression(this.compression)}, not float32 weights`);
      return this.streams.accept(siteId, m.header, m.part);
    }
    if (m.kind !== 'update' && m.kind !== 'compressed-update') throw new TypeError(`training phase got ${m.kind}`);
    const { header } = m;
    const early = admissionRefusal(this.collector, siteId, header, 'training');
    if (early !== null) return early;
    const child = childHeadRefusal(childOf(header).childHead);
    if (child !== null) return refuse(this.collector, siteId, child.code, child.reason);
    const weights = this.weightsOf(m);
    if (!Array.isArray(weights)) return refuse(this.collector, siteId, weights.code, weights.reason);
    const verdict = this.aggregator.accept({ ...header, weights });
    if (!verdict.accepted) return refuse(this.collector, siteId, verdict.code, verdict.reason);
    this.collector.record(siteId, {
      kind: 'ok',
      value: {
        numExamples: header.numExamples,
        updateHash: header.updateHash,
        trainLoss: header.trainLoss,
        signature: header.signature,
        ...(m.bytes === undefined ? {} : { updateBytes: m.bytes }),
        ...childOf(header),
      },
    });
    return { accepted: true };
  }

  /** The weights an update stands for: as sent, or a compressed change added to the global model (its hash was checked on decoding). */
  private weightsOf(m: Extract<SiteMessage, { kind: 'update' | 'compressed-update' }>): Weights | { code: ErrorCode; reason: string } {
    if (m.kind === 'update') {
      if (this.compression !== undefined) return { code: 'E_COMPRESSED_UPDATE', reason: `the run sends its updates as ${describeCompression(this.compression)}, not float32 weights` };
      return hashWeights(m.weights) === m.header.updateHash ? m.weights : { code: 'E_HASH_MISMATCH', reason: 'updateHash does not match the update bytes' };
    }
    if (this.compression === undefined) return { code: 'E_COMPRESSED_UPDATE', reason: 'the run does not compress its updates' };
    try {
      return reconstructUpdate(this.global, m.payload, this.compression);
    } catch (e) {
      if (isFedrxError(e)) return { code: e.code, reason: e.message };
      throw e;
    }
  }

  /** Every selected site's outcome, and how many updates the aggregator holds. */
  results(): { outcomes: SiteOutcome[]; accepted: number } {
    this.streams.abortAll();
    return { outcomes: phaseOutcomes(this.collector, 'update', (r) => ({ ...r })), accepted: this.aggregator.accepted };
  }
}

/** An update's child head, as a field to spread (a compressed update's header has none). */
const childOf = (header: UpdateHeader | UpdateStreamHeader | CompressedUpdateHeader): { childHead?: SignedHead } =>
  'childHead' in header && header.childHead !== undefined ? { childHead: header.childHead } : {};
