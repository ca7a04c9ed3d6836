// A hospital's site agent: holds the connection, runs the coordinator's tasks one at a time on
// the local CSV, and keeps the ledger replica. Only weights, counts and losses ever leave the
// site; log lines carry rounds and numbers, never a patient value.

import { canonicalJson } from '../shared/canonical-json.js';
import { FedrxError, isFedrxError, type ErrorCode } from '../shared/errors.js';
import { hashStats, statsOf, type Preprocessing } from '../shared/feature-stats.js';
import { readKeyPair } from '../shared/key-files.js';
import { helloBody, sign, statsBody, updateBody } from '../shared/signing.js';
import { checkStudy } from '../shared/load-study.js';
import { runStudy } from '../shared/expand-study.js';
import { hashStatistics64, hashWeights } from '../shared/model-hash.js';
import { denseLayers, weightSpecs } from '../shared/model-spec.js';
import { DEFAULT_MIN_ROWS, inputDim, outputDim, type Study } from '../shared/study.js';
import { decodeFrame, encodeFrame, encodeFrame64, frameKind } from '../shared/tensor-codec.js';
import { nextTranscript } from '../shared/exact/transcript.js';
import { crossProducts, gramProduct } from './exact-products.js';
import { newtonTerms } from '../shared/exact/logistic.js';
import { secretNormal } from '../shared/exact/gram-factor.js';
import { cloneWeights, specMismatch, specsOf, type Weights } from '../shared/tensors.js';
import {
  decodeExactProductRequest,
  decodeTaskFrame,
  EvalResultSchema,
  ExactProductHeaderSchema,
  ExactStatsHeaderSchema,
  expectSchema,
  messageText,
  PROTOCOL_VERSION,
  StatsReportSchema,
  TaskErrorSchema,
  UpdateHeaderSchema,
  type Challenge,
  type CoordinatorMessage,
  type EvalResult,
  type ExactRequest,
  type Hello,
  type TaskError,
  type TaskHeader,
  type StatsReport,
  type StatsRequest,
  type Welcome,
} from '../shared/wire.js';
import { loadTf } from './backend.js';
import { Connection, type ConnectionTls } from './connection.js';
import { encodePart, loadSiteRows, type DataPart, type SiteRows } from './local-data.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import { Endorser } from './endorser.js';
import { Replica } from './replica.js';
import { evaluateLocal, trainLocal, type EvalScore } from './trainer.js';
import { exactStatistics } from './exact-stats.js';

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
  /**
   * TEST-ONLY fault injection, never for real sites. 'nan-update' puts a NaN in the first weight
   * of every update sent (hashed as sent), so tests can watch the coordinator reject it.
   */
  fault?: 'nan-update';
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
  if (opts.fault !== undefined) log(`WARNING: fault injection "${opts.fault}" is on (test only)`);

  const keys = readKeyPair(opts.keyDir, 'site');
  log(`site key ${keys.publicKey}`);
  const { tf, backend } = await loadTf(log);
  const replica = await Replica.open(opts.replicaDir, {
    site: { siteId: opts.siteId, publicKey: keys.publicKey },
    ...(opts.coordinatorKey === undefined ? {} : { coordinatorKey: opts.coordinatorKey }),
  });
  log(`replica: ${replica.head().length} ledger entries, head ${replica.head().headHash.slice(0, 12)}, coordinator key ${replica.coordinatorKey() ?? 'not pinned yet'}`);

  // Rows per study, read once; encoded arrays per (study, preprocessing), only the latest kept.
  const rowsCache = new Map<string, Promise<SiteRows>>();
  const rowsFor = (study: Study): Promise<SiteRows> => {
    const key = canonicalJson(study);
    let p = rowsCache.get(key);
    if (p === undefined) {
      p = loadSiteRows(opts.dataFile, study, {
        siteId: opts.siteId,
        dropBadRows: opts.dropBadRows === true,
        ...(opts.columnMap ? { columnMap: opts.columnMap } : {}),
      });
      p.then(
        (d) => log(`site data for study ${study.name}: ${d.totalRows} rows, ${d.train.length} train, ${d.test.length} held out, dropped ${JSON.stringify(d.dropped)}`),
        () => rowsCache.delete(key), // a fixed file is picked up by the next task
      );
      rowsCache.set(key, p);
    }
    return p;
  };
  type Parts = { train: DataPart; validation: DataPart | null; test: DataPart };
  let encoded: ({ key: string } & Parts) | null = null;
  const partsFor = async (study: Study, prep: Preprocessing): Promise<Parts> => {
    const key = canonicalJson([study, prep]);
    if (encoded?.key !== key) {
      const rows = await rowsFor(study);
      const validation = rows.validation.length > 0 ? encodePart(study, prep, rows.validation) : null;
      encoded = { key, train: encodePart(study, prep, rows.train), validation, test: encodePart(study, prep, rows.test) };
    }
    return encoded;
  };

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

  const train = async (header: TaskHeader, study: Study, global: Weights, data: DataPart): Promise<void> => {
    const started = performance.now();
    // Per-round, per-site shuffle: the same run replays identically, rounds do not repeat an order.
    const t = header.config.training;
    const settings = {
      ...t,
      lr: t.lr * t.lrDecay ** Math.max(0, header.round - 1),
      seed: new Prng(deriveSeed(t.seed, header.runId, header.round, opts.siteId)).nextUint32(),
    };
    const layers = denseLayers(study.model, inputDim(study), outputDim(study));
    const result = await trainLocal(tf, study, layers, global, data, settings, header.config.proximalMu);
    let weights = result.weights;
    if (opts.fault === 'nan-update') {
      weights = cloneWeights(weights);
      weights[0]!.data[0] = Number.NaN;
    }
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

  const evaluate = (header: TaskHeader, study: Study, global: Weights, data: DataPart, validationPart: DataPart | null): void => {
    const started = performance.now();
    const layers = denseLayers(study.model, inputDim(study), outputDim(study));
    const scoreOf = (part: DataPart, name: string): EvalScore => {
      const score = evaluateLocal(tf, study, header.config.preprocessing, layers, global, part);
      if (!Number.isFinite(score.loss) || !Object.values(score.sums).every(Number.isFinite)) {
        throw new FedrxError('E_NON_FINITE', `the model gives a non-finite loss or metric on the ${name} rows`);
      }
      return score;
    };
    const score = scoreOf(data, 'held-out');
    const validation = validationPart === null ? null : scoreOf(validationPart, 'validation');
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
      const parts = await partsFor(study, header.config.preprocessing);
      if (header.kind === 'train') await train(header, study, global, parts.train);
      else evaluate(header, study, global, parts.test, parts.validation);
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
      const rows = await rowsFor(study);
      // Keyed by this site's own matches of any feature groups: the coordinator fixes the run's list from them.
      const stats = statsOf(rows.study, rows.train);
      const statsHash = hashStats(stats);
      const signature = sign('stats', statsBody({ runId: req.runId, siteId: opts.siteId, statsHash, rows: stats.rows }), keys.secretKey);
      const msg: StatsReport = { type: 'stats-report', v: PROTOCOL_VERSION, runId: req.runId, stats, signature };
      endorser.noteContribution(req.runId, 0, statsHash, stats.rows);
      send(messageText(expectSchema(StatsReportSchema, msg, 'E_INTERNAL', 'outgoing stats-report')));
      log(`run ${req.runId}: reported statistics of ${rows.train.length} training rows`);
    } catch (e) {
      const err = asFedrxError(e, 'E_INTERNAL');
      log(`run ${req.runId}: statistics refused: ${err.code} ${err.message}`);
      sendTaskError(ref, err.code, err.message);
    }
  };

  /** The open conjugate-gradient solve, if any: its rows and the chain of answers sent. */
  let productSession: { mode: 'products' | 'newton'; runId: string; round: number; baseModelHash: string; train: DataPart; width: number; transcript: string } | null = null;
  const productAt = (s: NonNullable<typeof productSession>, p: Float64Array): Float64Array =>
    s.mode === 'products' ? gramProduct(s.train, s.width, p) : newtonTerms(s.train.x, s.train.y, s.train.n, s.width, p, secretNormal());

  /** Signs and sends one answer of a product solve (step 0: X̃ᵀy and yᵀy; then X̃ᵀX̃·p). */
  const sendProduct = (session: NonNullable<typeof productSession>, step: number, v: Float64Array, prev: string | null): void => {
    const tensors = [{ name: 'v', shape: [v.length], data: v }];
    const signed = { runId: session.runId, round: session.round, siteId: opts.siteId, baseModelHash: session.baseModelHash, updateHash: nextTranscript(prev, tensors), numExamples: session.train.n };
    const meta = { v: PROTOCOL_VERSION, kind: 'exact-product' as const, dtype: 'float64' as const, step, ...signed, signature: sign('update', updateBody(signed), keys.secretKey) };
    expectSchema(ExactProductHeaderSchema, { ...meta, tensors: specsOf(tensors) }, 'E_INTERNAL', 'outgoing exact-product header');
    session.transcript = signed.updateHash;
    endorser.noteContribution(signed.runId, signed.round, signed.updateHash, signed.numExamples);
    send(encodeFrame64(meta, tensors));
  };

  const answerProduct = (buf: Buffer): void => {
    let ref: TaskRef | null = null;
    try {
      const { header, tensors } = decodeExactProductRequest(buf);
      ref = { runId: header.runId, round: header.round };
      const s = productSession;
      if (s === null || s.runId !== header.runId || s.round !== header.round) throw new FedrxError('E_STALE_ROUND', 'no product solve of that run and round is open here');
      const p = tensors[0];
      if (tensors.length !== 1 || p === undefined || p.shape.length !== 1 || p.shape[0] !== s.width + 1 || !p.data.every(Number.isFinite)) {
        throw new FedrxError('E_SHAPE_MISMATCH', `expected one finite vector p [${s.width + 1}]`);
      }
      sendProduct(s, header.step, productAt(s, p.data), s.transcript);
    } catch (e) {
      const err = asFedrxError(e, 'E_FRAME_HEADER');
      log(`exact-product request refused: ${err.code} ${err.message}`);
      if (ref !== null) sendTaskError(ref, err.code, err.message);
    }
  };

  /** Factored sufficient statistics of the training rows for an exact fit, signed like an update. */
  const reportExactStats = async (req: ExactRequest): Promise<void> => {
    const ref = { runId: req.runId, round: req.round };
    try {
      const started = performance.now();
      const study = runStudy(checkStudy(req.config.study, 'exact-fit study'), req.config.preprocessing);
      const { train } = await partsFor(study, req.config.preprocessing);
      const minRows = study.minRows ?? DEFAULT_MIN_ROWS;
      if (train.n < minRows) throw new FedrxError('E_CSV_TOO_FEW_ROWS', `${train.n} training rows, the study needs at least ${minRows}`);
      if (req.mode !== 'factors') {
        const session = { mode: req.mode, runId: req.runId, round: req.round, baseModelHash: req.baseModelHash, train, width: inputDim(study), transcript: '' };
        productSession = session;
        sendProduct(session, 0, req.mode === 'products' ? crossProducts(train, session.width) : productAt(session, new Float64Array(session.width + 1)), null);
        log(`round ${req.round}: exact fit by ${req.mode === 'products' ? 'conjugate gradient' : 'Newton steps'} over ${train.n} rows: answering the coordinator's steps`);
        return;
      }
      const stats = exactStatistics(train, inputDim(study), req.folds, req.config.training.seed, opts.siteId, secretNormal());
      const signed = {
        runId: req.runId,
        round: req.round,
        siteId: opts.siteId,
        baseModelHash: req.baseModelHash,
        updateHash: hashStatistics64(stats.tensors),
        numExamples: train.n,
      };
      const meta = {
        v: PROTOCOL_VERSION,
        kind: 'exact-stats' as const,
        dtype: 'float64' as const,
        ...signed,
        foldRows: stats.foldRows,
        signature: sign('update', updateBody(signed), keys.secretKey),
      };
      expectSchema(ExactStatsHeaderSchema, { ...meta, tensors: specsOf(stats.tensors) }, 'E_INTERNAL', 'outgoing exact-stats header');
      endorser.noteContribution(signed.runId, signed.round, signed.updateHash, signed.numExamples);
      const frame = encodeFrame64(meta, stats.tensors);
      send(frame);
      log(`round ${req.round}: sent exact-fit statistics of ${train.n} rows in ${req.folds} fold(s), ${frame.length} bytes, in ${ms(started)} ms`);
    } catch (e) {
      const err = asFedrxError(e, 'E_INTERNAL');
      log(`round ${req.round}: exact-fit statistics refused: ${err.code} ${err.message}`);
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
      case 'exact-request':
        tasks = tasks.then(() => reportExactStats(msg)).catch((e: unknown) => log(`exact-fit statistics crashed: ${(e as Error).message}`));
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

  const conn = new Connection({
    coordinatorUrl: opts.coordinatorUrl,
    hello,
    onMessage,
    // One task at a time, in arrival order: training is CPU-bound and rounds are sequential.
    onBinary: (buf) => {
      if (frameKind(buf) === 'exact-product-request') {
        tasks = tasks.then(() => answerProduct(buf));
        return;
      }
      tasks = tasks.then(() => runTask(buf)).catch((e: unknown) => log(`task crashed: ${(e as Error).message}`));
    },
    log,
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
  });

  return {
    replica,
    backend,
    async close() {
      closing = true;
      await conn.close();
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
