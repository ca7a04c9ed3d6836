// A site's answer to each kind of task, as the bytes to send: the compute thread does the work on
// the site's rows; this signs what leaves the site (updates and statistics) and checks its shape.
// Only weights, counts, sums and losses are in an answer, never a row.

import { hashStats } from '../shared/feature-stats.js';
import { hashWeights } from '../shared/model-hash.js';
import { deltaNorm, privatiseUpdate } from '../shared/privacy/private-update.js';
import { secureNormal } from '../shared/privacy/secure-normal.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import { sign, statsBody, updateBody, type KeyPair } from '../shared/signing.js';
import type { Study } from '../shared/study.js';
import { encodeFrame } from '../shared/tensor-codec.js';
import { specsOf, type Weights } from '../shared/tensors.js';
import {
  EvalResultSchema,
  expectSchema,
  messageText,
  PROTOCOL_VERSION,
  StatsReportSchema,
  UpdateHeaderSchema,
  type EvalResult,
  type StatsReport,
  type TaskHeader,
} from '../shared/wire.js';
import type { SiteCompute, TaskOrigin } from './compute-tasks.js';
import type { Contribution } from './endorser-state.js';

export interface AnswerDeps {
  siteId: string;
  keys: KeyPair;
  compute: SiteCompute;
}

export interface Answer {
  bytes: Buffer | string;
  /** Set when the answer is signed: an update or statistics. */
  contribution?: Contribution;
  /** For the log: what was done, with counts and losses only. */
  summary: string;
}

/** Trains on the site's rows from `global` as the task says (in the compute thread). */
export async function trainLocally(deps: AnswerDeps, header: TaskHeader, study: Study, global: Weights) {
  // Per-round, per-site shuffle: the same run replays identically, rounds do not repeat an order.
  const t = header.config.training;
  const settings = {
    ...t,
    lr: t.lr * t.lrDecay ** Math.max(0, header.round - 1),
    seed: new Prng(deriveSeed(t.seed, header.runId, header.round, deps.siteId)).nextUint32(),
  };
  const result = await deps.compute.run('train', { study, prep: header.config.preprocessing, global, settings, proximalMu: header.config.proximalMu, origin: originOf(header) });
  return { result, settings };
}

export async function trainAnswer(deps: AnswerDeps, header: TaskHeader, study: Study, global: Weights): Promise<Answer> {
  const started = performance.now();
  const { result: trained, settings } = await trainLocally(deps, header, study, global);
  // A DP run: the change clipped (and the site's own noise added) before it is hashed and signed.
  const result = header.dp === undefined ? trained : { ...trained, weights: privatiseUpdate(global, trained.weights, header.dp, secureNormal()) };
  const signed = {
    runId: header.runId,
    round: header.round,
    siteId: deps.siteId,
    baseModelHash: header.modelHash,
    updateHash: hashWeights(result.weights),
    numExamples: result.numExamples,
  };
  const meta = {
    v: PROTOCOL_VERSION,
    kind: 'update' as const,
    ...signed,
    trainLoss: result.trainLoss,
    signature: sign('update', updateBody(signed), deps.keys.secretKey),
    ...(result.childHead === undefined ? {} : { childHead: result.childHead }),
  };
  expectSchema(UpdateHeaderSchema, { ...meta, tensors: specsOf(result.weights) }, 'E_INTERNAL', 'outgoing update header');
  return {
    bytes: encodeFrame(meta, result.weights),
    contribution: { runId: signed.runId, round: signed.round, updateHash: signed.updateHash, numExamples: signed.numExamples },
    summary:
      `round ${header.round}: trained ${settings.localEpochs} epochs on ${result.numExamples} rows in ${ms(started)} ms, train loss ${result.trainLoss.toFixed(5)}` +
      (header.dp === undefined ? '' : `; change clipped to ${header.dp.clip} (norm was ${deltaNorm(global, trained.weights).toPrecision(4)})`),
  };
}

export async function evaluateAnswer(deps: AnswerDeps, header: TaskHeader, study: Study, global: Weights): Promise<Answer> {
  const started = performance.now();
  const { score, validation, calibration } = await deps.compute.run('evaluate', { study, prep: header.config.preprocessing, global, origin: originOf(header) });
  const msg: EvalResult = {
    type: 'eval-result',
    v: PROTOCOL_VERSION,
    runId: header.runId,
    round: header.round,
    modelHash: header.modelHash,
    numExamples: score.numExamples,
    loss: score.loss,
    sums: score.sums,
    ...(score.groups === undefined ? {} : { groups: score.groups }),
    ...(validation === null ? {} : { validation }),
    ...(calibration === null ? {} : { calibration }),
  };
  return {
    bytes: messageText(expectSchema(EvalResultSchema, msg, 'E_INTERNAL', 'outgoing eval-result')),
    summary:
      `round ${header.round}: evaluated on ${score.numExamples} held-out rows in ${ms(started)} ms, loss ${score.loss.toFixed(5)}` +
      (validation === null ? '' : `; ${validation.numExamples} validation rows, loss ${validation.loss.toFixed(5)}`) +
      (calibration === null ? '' : `; ${calibration.numExamples} rows calibrate`),
  };
}

/** Counts, sums and level counts of the training rows: never a row. Small sites refuse (in the thread). */
export async function statsAnswer(deps: AnswerDeps, runId: string, study: Study): Promise<Answer> {
  const { stats, trainRows } = await deps.compute.run('stats', { study, origin: { runId, round: 0 } });
  const statsHash = hashStats(stats);
  const signature = sign('stats', statsBody({ runId, siteId: deps.siteId, statsHash, rows: stats.rows }), deps.keys.secretKey);
  const msg: StatsReport = { type: 'stats-report', v: PROTOCOL_VERSION, runId, stats, signature };
  return {
    bytes: messageText(expectSchema(StatsReportSchema, msg, 'E_INTERNAL', 'outgoing stats-report')),
    contribution: { runId, round: 0, updateHash: statsHash, numExamples: stats.rows },
    summary: `run ${runId}: reported statistics of ${trainRows} training rows`,
  };
}

const originOf = (header: TaskHeader): TaskOrigin => ({
  runId: header.runId,
  round: header.round,
  config: header.config,
  ...(header.secure === true ? { protectedAs: 'secure' as const } : header.dp !== undefined ? { protectedAs: 'dp' as const } : {}),
});

export const ms = (since: number): number => Math.round(performance.now() - since);
