// Answers the coordinator's tasks: statistics, train and evaluate frames, and the exact fits'
// requests, one at a time (task-queue.ts). Every task is checked before any work. A task this site
// already answered gets the very answer it was sent (answer-store.ts): a redone round never trains
// twice. The same request arriving while it is under way is answered once, and a second training
// task while one holds the site is refused at once with E_SITE_BUSY instead of piling up.

import { FedrxError, type ErrorCode } from '../shared/errors.js';
import { decodeCompressedUpdate, type CompressedUpdateHeader } from '../shared/compression/wire.js';
import { runStudy } from '../shared/expand-study.js';
import { checkStudy } from '../shared/load-study.js';
import { hashWeights } from '../shared/model-hash.js';
import { weightSpecs } from '../shared/model-spec.js';
import { inputDim, outputDim } from '../shared/study.js';
import { frameKind, type DecodedFrame } from '../shared/tensor-codec.js';
import { specMismatch, specsOf } from '../shared/tensors.js';
import { decodeTaskFrame, decodeUpdateFrame, parseAgentMessage, type ExactRequest, type StatsRequest, type TaskHeader, type UpdateHeader } from '../shared/wire.js';
import { answerKey, type AnswerKind, type AnswerStore } from './answer-store.js';
import type { Endorser } from './endorser.js';
import type { Contribution } from './endorser-state.js';
import { compressedAnswer } from './compressed-answer.js';
import { exactAnswers } from './exact-answers.js';
import { maskedAnswer } from './masked-answer.js';
import { Residuals } from './residuals.js';
import { SecureRounds } from './secure-rounds.js';
import { evaluateAnswer, statsAnswer, trainAnswer, type Answer, type AnswerDeps } from './task-answers.js';
import type { TrainingRequest } from './privacy-guard.js';
import { TaskQueue, type QueuedTask } from './task-queue.js';
import { asFedrxError, taskErrorText, taskRef, type TaskRef } from './task-reply.js';
import { DEFAULT_CHUNK_BYTES } from '../shared/update-chunks.js';
import { chunkedUpdate, sendStream, type PacedSend } from './chunked-send.js';

export interface TaskHandlerDeps extends AnswerDeps {
  endorser: Endorser;
  answers: AnswerStore;
  send: (data: string | Buffer) => void;
  /** Sends a frame with back-pressure: updates larger than `chunkBytes` go as chunk streams through it (chunked-send.ts). */
  sendPaced?: PacedSend;
  /** One-frame updates up to this size; larger ones are streamed in chunks of it (default DEFAULT_CHUNK_BYTES). */
  chunkBytes?: number;
  log: (line: string) => void;
  /** What error feedback holds back, kept in the state folder; absent: in memory only. */
  residuals?: Residuals;
  /** Why the site refuses a training request before any work (its --max-epsilon), or null. */
  guard?: (req: TrainingRequest) => string | null;
}

type Task = DecodedFrame & { header: TaskHeader };

export class TaskHandler {
  private readonly queue: TaskQueue;
  private readonly exact: ReturnType<typeof exactAnswers>;
  /** Secure rounds' keys and shares (answered at once, not queued: they wait on nothing). */
  readonly secure: SecureRounds;
  /** What error feedback held back from compressed updates, per run. */
  private readonly residuals: Residuals;
  private stopped = false;

  constructor(private readonly deps: TaskHandlerDeps) {
    this.residuals = deps.residuals ?? Residuals.inMemory();
    this.queue = new TaskQueue(deps.log);
    this.exact = exactAnswers({ ...deps, sendTaskError: (ref, code, message) => this.refuse(ref, code, message) });
    this.secure = new SecureRounds({ siteId: deps.siteId, identitySecret: deps.keys.secretKey, send: deps.send, refuse: (ref, code, message) => this.refuse(ref, code, message), log: deps.log });
  }

  /** A binary frame: a train or evaluate task, or the next step of an exact fit's product solve. */
  onFrame(buf: Buffer): void {
    if (frameKind(buf) === 'exact-product-request') {
      this.enqueue(() => this.exact.onProductRequest(buf));
      return;
    }
    // Attacker-controlled: decoded against the task schema before anything else.
    let task: Task;
    try {
      task = decodeTaskFrame(buf);
    } catch (e) {
      const err = asFedrxError(e, 'E_FRAME_HEADER');
      this.deps.log(`ignored a task frame: ${err.code} ${err.message}`);
      const ref = taskRef(buf);
      if (ref !== null) this.refuse(ref, err.code, err.message);
      return;
    }
    const { header } = task;
    const key = answerKey(header);
    if (header.kind === 'train' && this.refusedByGuard(header, { kind: 'train', dp: header.dp })) return;
    this.admit(header, `${header.kind} task`, { key, training: header.kind === 'train', label: `run ${header.runId} round ${header.round}` }, () => this.runModelTask(task, key));
  }

  onStatsRequest(req: StatsRequest): void {
    this.enqueue(() => this.reportStats(req));
  }

  onExactRequest(req: ExactRequest): void {
    const key = `exact ${req.runId} ${req.round} ${req.baseModelHash} ${req.mode} ${req.folds}`;
    if (this.refusedByGuard(req, { kind: 'exact' })) return;
    this.admit(req, 'exact-fit request', { key, training: true, label: `run ${req.runId} round ${req.round}` }, () => this.exact.onRequest(req));
  }

  /** No task starts after this; resolves once the one under way has ended. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.queue.idle();
  }

  private admit(ref: TaskRef, what: string, task: QueuedTask, run: () => Promise<void>): void {
    const { log } = this.deps;
    if (this.queue.has(task.key)) {
      log(`round ${ref.round}: the same ${what} for run ${ref.runId} is already under way: answered once`);
      return;
    }
    const busy = task.training ? this.queue.training() : null;
    if (busy !== null) {
      const message = `this site is still training ${busy.label} and takes one training task at a time: ${what} for ${task.label} refused`;
      log(`round ${ref.round}: ${message}`);
      this.refuse(ref, 'E_SITE_BUSY', message);
      return;
    }
    log(`round ${ref.round}: ${what} for run ${ref.runId}`);
    this.enqueue(run, task);
  }

  /** Refuses (E_SITE_MAX_EPSILON) a training request the site's own budget does not allow. */
  private refusedByGuard(ref: TaskRef, req: TrainingRequest): boolean {
    const why = this.deps.guard?.(req) ?? null;
    if (why === null) return false;
    this.deps.log(`round ${ref.round}: refused: ${why}`);
    this.refuse(ref, 'E_SITE_MAX_EPSILON', why);
    return true;
  }

  private enqueue(run: () => Promise<void>, task?: QueuedTask): void {
    this.queue.push(() => (this.stopped ? Promise.resolve() : run()), task);
  }

  private refuse(ref: TaskRef, code: ErrorCode, message: string): void {
    this.deps.send(taskErrorText(ref, code, message));
  }

  private async runModelTask({ header, weights: global }: Task, key: string): Promise<void> {
    try {
      // Feature groups expand to the input list the run fixed at round 0, the same at every site.
      const study = runStudy(checkStudy(header.config.study, 'task study'), header.config.preprocessing);
      const mismatch = specMismatch(specsOf(global), weightSpecs(study.model, inputDim(study), outputDim(study)));
      if (mismatch !== null) throw new FedrxError('E_SHAPE_MISMATCH', `global model does not fit the study: ${mismatch}`);
      if (hashWeights(global) !== header.modelHash) {
        throw new FedrxError('E_HASH_MISMATCH', 'the global model bytes do not match the declared modelHash');
      }
      this.deps.endorser.noteModel(header.modelHash);
      // A masked update is never sent twice: a redone secure round has new keys, so it trains again.
      if (header.secure === true) {
        this.deliver(await maskedAnswer(this.deps, header, study, global, () => this.secure.session(header)));
        return;
      }
      if (await this.resendKept(header, key)) return;
      const answer =
        header.kind === 'evaluate'
          ? await evaluateAnswer(this.deps, header, study, global)
          : header.config.compression === undefined
            ? await trainAnswer(this.deps, header, study, global)
            : await compressedAnswer(this.deps, header, study, global, this.residuals);
      await this.keep(header.kind, key, answer.bytes); // on disk before it leaves: then a redone round finds it
      this.deliver(answer);
    } catch (e) {
      const err = asFedrxError(e, header.kind === 'train' ? 'E_TRAINING_FAILED' : 'E_INTERNAL');
      this.deps.log(`round ${header.round}: ${header.kind} failed: ${err.code} ${err.message}`);
      this.refuse({ runId: header.runId, round: header.round }, err.code, err.message);
    }
  }

  private async reportStats(req: StatsRequest): Promise<void> {
    try {
      this.deliver(await statsAnswer(this.deps, req.runId, checkStudy(req.study, 'statistics study')));
    } catch (e) {
      const err = asFedrxError(e, 'E_INTERNAL');
      this.deps.log(`run ${req.runId}: statistics refused: ${err.code} ${err.message}`);
      this.refuse({ runId: req.runId, round: 0 }, err.code, err.message);
    }
  }

  private deliver(answer: Answer): void {
    if (answer.contribution !== undefined) this.deps.endorser.noteContribution(answer.contribution);
    const paced = this.deps.sendPaced;
    const stream = paced === undefined ? null : chunkedUpdate(answer.bytes, this.deps.keys, this.deps.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    if (stream === null || paced === undefined) this.deps.send(answer.bytes);
    else {
      const started = performance.now();
      void sendStream(stream, paced).then((ok) =>
        this.deps.log(ok ? `sent the update as ${stream.chunkCount} chunks in ${Math.round(performance.now() - started)} ms` : `the update stream stopped after the connection failed`),
      );
    }
    this.deps.log(answer.summary);
  }

  /** Kept for a redone round; a failure costs a training more then, not this answer. */
  private async keep(kind: AnswerKind, key: string, bytes: string | Buffer): Promise<void> {
    try {
      await this.deps.answers.put(kind, key, bytes);
    } catch (e) {
      this.deps.log(`round answer not kept in ${this.deps.answers.dir}: ${(e as Error).message}`);
    }
  }

  /** Sends again the answer kept for this very task, if there is one that fits it. */
  private async resendKept(header: TaskHeader, key: string): Promise<boolean> {
    const bytes = await this.deps.answers.get(header.kind, key);
    if (bytes === null) return false;
    const kept = keptAnswer(header, bytes, this.deps.siteId);
    if (typeof kept === 'string') {
      this.deps.log(`round ${header.round}: the ${header.kind} answer kept for this task is unusable (${kept}); computing it afresh`);
      return false;
    }
    this.deliver(kept);
    return true;
  }
}

/**
 * The kept answer as it will be sent again, or what is wrong with it. Read back from disk, so
 * checked: it must answer this run, round and model, and an update's bytes must match its hash.
 */
function keptAnswer(header: TaskHeader, bytes: Buffer, siteId: string): Answer | string {
  const what = `run ${header.runId}, model ${header.modelHash.slice(0, 12)}`;
  try {
    if (header.kind === 'train') {
      const h = keptUpdateHeader(bytes);
      if (typeof h === 'string') return h;
      if (h.runId !== header.runId || h.round !== header.round || h.baseModelHash !== header.modelHash || h.siteId !== siteId) return 'it answers another task';
      const contribution: Contribution = { runId: h.runId, round: h.round, updateHash: h.updateHash, numExamples: h.numExamples };
      const update = h.kind === 'compressed-update' ? 'compressed update' : 'update';
      return { bytes, contribution, summary: `round ${header.round}: re-sent the ${update} already sent for this task (${what}, update ${h.updateHash.slice(0, 12)}): not trained twice` };
    }
    const msg = parseAgentMessage(bytes.toString('utf8'));
    if (msg.type !== 'eval-result' || msg.runId !== header.runId || msg.round !== header.round || msg.modelHash !== header.modelHash) return 'it answers another task';
    return { bytes: bytes.toString('utf8'), summary: `round ${header.round}: re-sent the evaluation already sent for this task (${what})` };
  } catch (e) {
    return asFedrxError(e, 'E_INTERNAL').message;
  }
}

/** A kept update's header, its bytes checked against its hash (a compressed one's payload, by decodeCompressedUpdate). */
function keptUpdateHeader(bytes: Buffer): UpdateHeader | CompressedUpdateHeader | string {
  if (frameKind(bytes) === 'compressed-update') return decodeCompressedUpdate(bytes).header;
  const { header, weights } = decodeUpdateFrame(bytes);
  return hashWeights(weights) === header.updateHash ? header : 'its weights do not match its update hash';
}
