// A site's side of an exact fit (coordinator/exact/): the factored statistics of its training rows,
// or the answers of a product solve (conjugate gradient, Newton), each signed like an update and
// chained into a transcript hash. The arithmetic runs in the compute thread; this file signs,
// checks the coordinator's requests and sends.

import { FedrxError, type ErrorCode } from '../shared/errors.js';
import { checkStudy } from '../shared/load-study.js';
import { runStudy } from '../shared/expand-study.js';
import { hashStatistics64 } from '../shared/model-hash.js';
import { nextTranscript } from '../shared/exact/transcript.js';
import { sign, updateBody, type KeyPair } from '../shared/signing.js';
import { encodeFrame64 } from '../shared/tensor-codec.js';
import { specsOf } from '../shared/tensors.js';
import { decodeExactProductRequest, ExactProductHeaderSchema, ExactStatsHeaderSchema, expectSchema, PROTOCOL_VERSION, type ExactRequest } from '../shared/wire.js';
import type { SiteCompute } from './compute-tasks.js';
import type { Endorser } from './endorser.js';
import { asFedrxError, type TaskRef } from './task-reply.js';

export interface ExactAnswerDeps {
  siteId: string;
  keys: KeyPair;
  compute: SiteCompute;
  endorser: Endorser;
  send: (frame: Buffer) => void;
  sendTaskError: (ref: TaskRef, code: ErrorCode, message: string) => void;
  log: (line: string) => void;
}

/** The open product solve, if any: whose it is and the chain of answers sent so far. */
interface ProductSession {
  runId: string;
  round: number;
  baseModelHash: string;
  n: number;
  width: number;
  transcript: string;
}

export function exactAnswers(deps: ExactAnswerDeps): { onRequest(req: ExactRequest): Promise<void>; onProductRequest(buf: Buffer): Promise<void> } {
  const { siteId, keys, compute, endorser, send, sendTaskError, log } = deps;
  let session: ProductSession | null = null;

  /** Signs and sends one answer of a product solve (step 0: X̃ᵀy and yᵀy; then X̃ᵀX̃·p). */
  const sendProduct = (s: ProductSession, step: number, v: Float64Array): void => {
    const tensors = [{ name: 'v', shape: [v.length], data: v }];
    const signed = { runId: s.runId, round: s.round, siteId, baseModelHash: s.baseModelHash, updateHash: nextTranscript(s.transcript === '' ? null : s.transcript, tensors), numExamples: s.n };
    const meta = { v: PROTOCOL_VERSION, kind: 'exact-product' as const, dtype: 'float64' as const, step, ...signed, signature: sign('update', updateBody(signed), keys.secretKey) };
    expectSchema(ExactProductHeaderSchema, { ...meta, tensors: specsOf(tensors) }, 'E_INTERNAL', 'outgoing exact-product header');
    s.transcript = signed.updateHash;
    endorser.noteContribution(signed);
    send(encodeFrame64(meta, tensors));
  };

  const onRequest = async (req: ExactRequest): Promise<void> => {
    const ref = { runId: req.runId, round: req.round };
    try {
      const started = performance.now();
      const study = runStudy(checkStudy(req.config.study, 'exact-fit study'), req.config.preprocessing);
      const prep = req.config.preprocessing;
      if (req.mode !== 'factors') {
        const first = await compute.run('exactOpen', { study, prep, mode: req.mode });
        session = { runId: req.runId, round: req.round, baseModelHash: req.baseModelHash, n: first.n, width: first.width, transcript: '' };
        sendProduct(session, 0, first.v);
        log(`round ${req.round}: exact fit by ${req.mode === 'products' ? 'conjugate gradient' : 'Newton steps'} over ${first.n} rows: answering the coordinator's steps`);
        return;
      }
      const stats = await compute.run('exactStats', { study, prep, folds: req.folds, seed: req.config.training.seed });
      const signed = { runId: req.runId, round: req.round, siteId, baseModelHash: req.baseModelHash, updateHash: hashStatistics64(stats.tensors), numExamples: stats.n };
      const meta = { v: PROTOCOL_VERSION, kind: 'exact-stats' as const, dtype: 'float64' as const, ...signed, foldRows: stats.foldRows, signature: sign('update', updateBody(signed), keys.secretKey) };
      expectSchema(ExactStatsHeaderSchema, { ...meta, tensors: specsOf(stats.tensors) }, 'E_INTERNAL', 'outgoing exact-stats header');
      endorser.noteContribution(signed);
      const frame = encodeFrame64(meta, stats.tensors);
      send(frame);
      log(`round ${req.round}: sent exact-fit statistics of ${stats.n} rows in ${req.folds} fold(s), ${frame.length} bytes, in ${Math.round(performance.now() - started)} ms`);
    } catch (e) {
      const err = asFedrxError(e, 'E_INTERNAL');
      log(`round ${req.round}: exact-fit statistics refused: ${err.code} ${err.message}`);
      sendTaskError(ref, err.code, err.message);
    }
  };

  // Attacker-controlled: a coordinator's request for the next product; checked before any work.
  const onProductRequest = async (buf: Buffer): Promise<void> => {
    let ref: TaskRef | null = null;
    try {
      const { header, tensors } = decodeExactProductRequest(buf);
      ref = { runId: header.runId, round: header.round };
      const s = session;
      if (s === null || s.runId !== header.runId || s.round !== header.round) throw new FedrxError('E_STALE_ROUND', 'no product solve of that run and round is open here');
      const p = tensors[0];
      if (tensors.length !== 1 || p === undefined || p.shape.length !== 1 || p.shape[0] !== s.width + 1 || !p.data.every(Number.isFinite)) {
        throw new FedrxError('E_SHAPE_MISMATCH', `expected one finite vector p [${s.width + 1}]`);
      }
      // A copy of its own: a view would clone the whole frame's buffer into the thread.
      const { v } = await compute.run('exactStep', { p: p.data.slice() });
      sendProduct(s, header.step, v);
    } catch (e) {
      const err = asFedrxError(e, 'E_INTERNAL');
      log(`exact-product request refused: ${err.code} ${err.message}`);
      if (ref !== null) sendTaskError(ref, err.code, err.message);
    }
  };

  return { onRequest, onProductRequest };
}
