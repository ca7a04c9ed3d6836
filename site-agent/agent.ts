// A hospital's site agent: holds the connection, runs the coordinator's tasks one at a time on
// the local CSV, and keeps the ledger replica. Only weights, counts and losses ever leave the
// site; log lines carry rounds and numbers, never a patient value. The CSV, statistics, training
// and evaluation live in a compute thread (compute-worker.ts), so this event loop stays free to
// answer the coordinator's heartbeats however long a round trains.

import { FedrxError, isFedrxError, type ErrorCode } from '../shared/errors.js';
import { hashStats } from '../shared/feature-stats.js';
import { readKeyPair } from '../shared/key-files.js';
import { helloBody, sign, statsBody, updateBody } from '../shared/signing.js';
import { checkStudy } from '../shared/load-study.js';
import { runStudy } from '../shared/expand-study.js';
import { hashWeights } from '../shared/model-hash.js';
import { weightSpecs } from '../shared/model-spec.js';
import { inputDim, outputDim, type Study } from '../shared/study.js';
import { decodeFrame, encodeFrame } from '../shared/tensor-codec.js';
import { specMismatch, specsOf, type Weights } from '../shared/tensors.js';
import {
  decodeTaskFrame,
  EvalResultSchema,
  expectSchema,
  messageText,
  PROTOCOL_VERSION,
  StatsReportSchema,
  TaskErrorSchema,
  UpdateHeaderSchema,
  type Challenge,
  type CoordinatorMessage,
  type EvalResult,
  type Hello,
  type TaskError,
  type TaskHeader,
  type StatsReport,
  type StatsRequest,
  type Welcome,
} from '../shared/wire.js';
import { ComputeWorker } from './compute-worker.js';
import { Connection, type ConnectionTls } from './connection.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import { Endorser } from './endorser.js';
import { Replica } from './replica.js';

export interface AgentOptions {
  coordinatorUrl: string;
  siteId: string;
  dataFile: string;
  /** Folder holding the site's Ed25519 key pair (`fedrx site init`): site.key and site.pub. */
  keyDir: string;
  /** The coordinator's ledger key as given by the site's admin; otherwise pinned on first contact. */
  coordinatorKey?: string;
  replicaDir: string;
  /** study column → CSV column. */
  columnMap?: Record<string, string>;
  /** Leave rows with misfit values out instead of refusing the file (see loadSiteRows). */
  dropBadRows?: boolean;
  log?: (line: string) => void;
  /** Trust anchors and certificate pin for an https coordinator. */
  tls?: ConnectionTls;
}

export interface RunningAgent {
  close(): Promise<void>;
  replica: Replica;
  /** tfjs backend in use ('tensorflow', 'wasm' or 'cpu'). */
  backend: string;
}

const SITE_ID = /^[A-Za-z0-9._:-]{1,128}$/; // the wire's Id pattern: fail at start, not at hello
const MAX_ERROR_MESSAGE = 2000;
type TaskRef = { runId: string; round: number };

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.log ?? ((line: string) => console.log(`${new Date().toISOString()} [site ${opts.siteId}] ${line}`));
  if (!SITE_ID.test(opts.siteId)) throw new FedrxError('E_BAD_REQUEST', 'siteId must be 1-128 characters of A-Z a-z 0-9 . _ : -');

  const keys = readKeyPair(opts.keyDir, 'site');
  log(`site key ${keys.publicKey}`);
  const replica = await Replica.open(opts.replicaDir, {
    site: { siteId: opts.siteId, publicKey: keys.publicKey },
    ...(opts.coordinatorKey === undefined ? {} : { coordinatorKey: opts.coordinatorKey }),
  });
  log(`replica: ${replica.head().length} ledger entries, head ${replica.head().headHash.slice(0, 12)}, coordinator key ${replica.coordinatorKey() ?? 'not pinned yet'}`);

  // tfjs starts inside the compute thread, once; its backend is logged from there.
  const compute = await ComputeWorker.start(
    { siteId: opts.siteId, dataFile: opts.dataFile, dropBadRows: opts.dropBadRows === true, ...(opts.columnMap ? { columnMap: opts.columnMap } : {}) },
    log,
  );
  const backend = await compute.backend();

  let closing = false;
  let tasks: Promise<void> = Promise.resolve();

  const send = (data: string | Buffer): void => {
    if (!closing) conn.send(data);
  };
  const sendTaskError = (ref: TaskRef, code: ErrorCode, message: string): void => {
    const msg: TaskError = {
      type: 'task-error',
      v: PROTOCOL_VERSION,
      runId: ref.runId,
      round: ref.round,
      code,
      message: message.slice(0, MAX_ERROR_MESSAGE),
    };
    send(messageText(expectSchema(TaskErrorSchema, msg, 'E_INTERNAL', 'outgoing task-error')));
  };

  const train = async (header: TaskHeader, study: Study, global: Weights): Promise<void> => {
    const started = performance.now();
    // Per-round, per-site shuffle: the same run replays identically, rounds do not repeat an order.
    const t = header.config.training;
    const settings = {
      ...t,
      lr: t.lr * t.lrDecay ** Math.max(0, header.round - 1),
      seed: new Prng(deriveSeed(t.seed, header.runId, header.round, opts.siteId)).nextUint32(),
    };
    const result = await compute.run('train', { study, prep: header.config.preprocessing, global, settings, proximalMu: header.config.proximalMu });
    const weights = result.weights;
    const signed = {
      runId: header.runId,
      round: header.round,
      siteId: opts.siteId,
      baseModelHash: header.modelHash,
      updateHash: hashWeights(weights),
      numExamples: result.numExamples,
    };
    const meta = {
      v: PROTOCOL_VERSION,
      kind: 'update' as const,
      ...signed,
      trainLoss: result.trainLoss,
      signature: sign('update', updateBody(signed), keys.secretKey),
    };
    endorser.noteContribution(signed.runId, signed.round, signed.updateHash, signed.numExamples);
    expectSchema(UpdateHeaderSchema, { ...meta, tensors: specsOf(weights) }, 'E_INTERNAL', 'outgoing update header');
    send(encodeFrame(meta, weights));
    log(`round ${header.round}: trained ${settings.localEpochs} epochs on ${result.numExamples} rows in ${ms(started)} ms, train loss ${result.trainLoss.toFixed(5)}`);
  };

  const evaluate = async (header: TaskHeader, study: Study, global: Weights): Promise<void> => {
    const started = performance.now();
    const { score, validation } = await compute.run('evaluate', { study, prep: header.config.preprocessing, global });
    const msg: EvalResult = {
      type: 'eval-result',
      v: PROTOCOL_VERSION,
      runId: header.runId,
      round: header.round,
      modelHash: header.modelHash,
      numExamples: score.numExamples,
      loss: score.loss,
      sums: score.sums,
      ...(validation === null ? {} : { validation }),
    };
    send(messageText(expectSchema(EvalResultSchema, msg, 'E_INTERNAL', 'outgoing eval-result')));
    log(
      `round ${header.round}: evaluated on ${score.numExamples} held-out rows in ${ms(started)} ms, loss ${score.loss.toFixed(5)}` +
        (validation === null ? '' : `; ${validation.numExamples} validation rows, loss ${validation.loss.toFixed(5)}`),
    );
  };

  const runTask = async (buf: Buffer): Promise<void> => {
    if (closing) return;
    let header: TaskHeader;
    let global: Weights;
    try {
      ({ header, weights: global } = decodeTaskFrame(buf));
    } catch (e) {
      const err = asFedrxError(e, 'E_FRAME_HEADER');
      log(`ignored a task frame: ${err.code} ${err.message}`);
      const ref = taskRef(buf);
      if (ref !== null) sendTaskError(ref, err.code, err.message);
      return;
    }
    const ref = { runId: header.runId, round: header.round };
    log(`round ${header.round}: ${header.kind} task for run ${header.runId}`);
    try {
      // Feature groups expand to the input list the run fixed at round 0, the same at every site.
      const study = runStudy(checkStudy(header.config.study, 'task study'), header.config.preprocessing);
      const mismatch = specMismatch(specsOf(global), weightSpecs(study.model, inputDim(study), outputDim(study)));
      if (mismatch !== null) throw new FedrxError('E_SHAPE_MISMATCH', `global model does not fit the study: ${mismatch}`);
      if (hashWeights(global) !== header.modelHash) {
        throw new FedrxError('E_HASH_MISMATCH', 'the global model bytes do not match the declared modelHash');
      }
      endorser.noteModel(header.modelHash);
      if (header.kind === 'train') await train(header, study, global);
      else await evaluate(header, study, global);
    } catch (e) {
      const err = asFedrxError(e, header.kind === 'train' ? 'E_TRAINING_FAILED' : 'E_INTERNAL');
      log(`round ${header.round}: ${header.kind} failed: ${err.code} ${err.message}`);
      sendTaskError(ref, err.code, err.message);
    }
  };

  /** Counts, sums and level counts of the training rows: never a row. Small sites refuse. */
  const reportStats = async (req: StatsRequest): Promise<void> => {
    const ref = { runId: req.runId, round: 0 };
    try {
      const study = checkStudy(req.study, 'statistics study');
      const { stats, trainRows } = await compute.run('stats', { study });
      const statsHash = hashStats(stats);
      const signature = sign('stats', statsBody({ runId: req.runId, siteId: opts.siteId, statsHash, rows: stats.rows }), keys.secretKey);
      const msg: StatsReport = { type: 'stats-report', v: PROTOCOL_VERSION, runId: req.runId, stats, signature };
      endorser.noteContribution(req.runId, 0, statsHash, stats.rows);
      send(messageText(expectSchema(StatsReportSchema, msg, 'E_INTERNAL', 'outgoing stats-report')));
      log(`run ${req.runId}: reported statistics of ${trainRows} training rows`);
    } catch (e) {
      const err = asFedrxError(e, 'E_INTERNAL');
      log(`run ${req.runId}: statistics refused: ${err.code} ${err.message}`);
      sendTaskError(ref, err.code, err.message);
    }
  };

  /** The site refuses a coordinator whose chain contradicts its replica: says so, and stops talking to it. */
  let refused = false;
  const refuse = (index: number, code: ErrorCode, why: string): void => {
    if (refused) return;
    refused = true;
    log(`!!! LEDGER DIVERGENCE at entry ${index}: ${why}. The replica in ${opts.replicaDir} is kept as is; refusing the coordinator's chain, disconnecting and NOT reconnecting.`);
    send(messageText({ type: 'dispute', v: PROTOCOL_VERSION, index, code, reason: why.slice(0, MAX_ERROR_MESSAGE) }));
    void conn.close();
  };

  const endorser = await Endorser.open({
    siteId: opts.siteId,
    keys,
    replica,
    send: (msg) => send(messageText(msg)),
    onDispute: (index, why) => refuse(index, 'E_ENTRY_DISPUTED', why),
    log,
  });

  const onWelcome = (msg: Welcome): void => {
    const mine = replica.head();
    log(`welcomed by coordinator: ledger ${msg.ledger.length} entries, replica ${mine.length}`);
    const signed = replica.coordinatorHead();
    if (msg.ledger.length < mine.length) {
      refuse(msg.ledger.length, 'E_REPLICA_DIVERGED', `coordinator ledger has ${msg.ledger.length} entries, this replica holds ${mine.length}`);
    } else if (signed !== null && msg.ledger.length < signed.length) {
      refuse(msg.ledger.length, 'E_REPLICA_DIVERGED', `coordinator ledger has ${msg.ledger.length} entries, but it signed a head of ${signed.length} entries on ${signed.recordedAt}`);
    } else if (msg.ledger.length === mine.length && msg.ledger.headHash !== mine.headHash) {
      refuse(mine.length - 1, 'E_REPLICA_DIVERGED', `coordinator ledger head differs from the replica's at length ${mine.length}: an earlier entry was rewritten`);
    } else if (msg.head !== undefined) {
      // Kept in replica.json: a coordinator that later shows fewer entries is refused, and `ledger diff` shows it.
      replica.recordCoordinatorHead(msg.head).catch((e: unknown) => {
        if (isFedrxError(e, 'E_REPLICA_DIVERGED')) refuse(Number(e.details?.index ?? 0), 'E_REPLICA_DIVERGED', e.message);
        else log(`coordinator head not kept: ${asFedrxError(e, 'E_INTERNAL').message}`);
      });
    }
  };

  /** Signs the coordinator's nonce, once its key is the one this site trusts. */
  const hello = async (challenge: Challenge): Promise<Hello | null> => {
    const pinned = replica.coordinatorKey();
    if (pinned !== null && pinned !== challenge.coordinatorKey) {
      log(`!!! coordinator key ${challenge.coordinatorKey} is not the pinned ${pinned} (${opts.replicaDir}/replica.json): not answering, NOT reconnecting`);
      refused = true;
      void conn.close();
      return null;
    }
    if (pinned === null) {
      await replica.pinCoordinator(challenge.coordinatorKey);
      log(`pinned coordinator key ${challenge.coordinatorKey} (first contact)`);
    }
    return {
      type: 'hello',
      v: PROTOCOL_VERSION,
      siteId: opts.siteId,
      nonce: challenge.nonce,
      signature: sign('hello', helloBody(opts.siteId, challenge.nonce, challenge.coordinatorKey), keys.secretKey),
      replica: replica.head(),
      backend,
    };
  };

  const onMessage = async (msg: CoordinatorMessage): Promise<void> => {
    switch (msg.type) {
      case 'welcome':
        onWelcome(msg);
        return;
      case 'ledger-entries':
        try {
          const added = await replica.append(msg.entries);
          if (added.length > 0) log(`replica: +${added.length} entries, now ${replica.head().length}`);
          endorser.review(added);
        } catch (e) {
          if (isFedrxError(e, 'E_REPLICA_DIVERGED')) refuse(Number(e.details?.index ?? replica.head().length), 'E_REPLICA_DIVERGED', e.message);
          else log(`ledger entries rejected: ${asFedrxError(e, 'E_INTERNAL').message}`);
        }
        return;
      case 'endorsement-request':
        // Behind the appends already queued (the ledger sync comes just before), so the entries are held.
        void replica.append([]).then(() => endorser.resend(msg.indexes));
        return;
      case 'stats-request':
        tasks = tasks.then(() => reportStats(msg)).catch((e: unknown) => log(`statistics crashed: ${(e as Error).message}`));
        return;
      case 'error':
        // The coordinator itself found our replica's head is not on its chain.
        if (msg.code === 'E_REPLICA_DIVERGED') refuse(Math.max(0, replica.head().length - 1), 'E_REPLICA_DIVERGED', msg.message);
        log(`coordinator error ${msg.code}${msg.runId !== undefined ? ` (run ${msg.runId}, round ${msg.round ?? '?'})` : ''}: ${msg.message}`);
        return;
    }
  };

  let conn: Connection;
  try {
    conn = new Connection({
      coordinatorUrl: opts.coordinatorUrl,
      hello,
      onMessage,
      // One task at a time, in arrival order: training is CPU-bound and rounds are sequential.
      onBinary: (buf) => {
        tasks = tasks.then(() => runTask(buf)).catch((e: unknown) => log(`task crashed: ${(e as Error).message}`));
      },
      log,
      ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    });
  } catch (e) {
    await compute.close(); // a thread left running would keep the process alive
    throw e;
  }

  return {
    replica,
    backend,
    async close() {
      closing = true;
      await conn.close();
      await compute.close();
      await tasks;
      await endorser.flushed();
    },
  };
}

function asFedrxError(e: unknown, fallback: ErrorCode): FedrxError {
  return isFedrxError(e) ? e : new FedrxError(fallback, (e as Error)?.message ?? String(e));
}

/** runId and round of a frame whose header failed the task schema, so the error can be addressed. */
function taskRef(buf: Buffer): TaskRef | null {
  try {
    const { header } = decodeFrame(buf);
    const { runId, round } = header;
    if (typeof runId === 'string' && SITE_ID.test(runId) && Number.isSafeInteger(round) && (round as number) >= 0) {
      return { runId, round: round as number };
    }
  } catch {
    // not even a frame: nothing to address a reply to
  }
  return null;
}

const ms = (since: number): number => Math.round(performance.now() - since);
