// A training task of a secure round: train as usual, then put the update in the ring (weighted,
// clipped, quantised: shared/secagg/secure-vector.ts), mask it with the round's self and pairwise
// masks, and sign the masked bytes. The plain update never leaves this function.

import { hashMasked } from '../shared/model-hash.js';
import { privatiseUpdate } from '../shared/privacy/private-update.js';
import { secureNormal } from '../shared/privacy/secure-normal.js';
import { maskVector, type ClientRound } from '../shared/secagg/client.js';
import { encodeSecureVector } from '../shared/secagg/secure-vector.js';
import { MaskedUpdateHeaderSchema } from '../shared/secagg/wire.js';
import { sign, updateBody } from '../shared/signing.js';
import type { Study } from '../shared/study.js';
import { encodeFrameU32 } from '../shared/tensor-codec.js';
import type { Weights } from '../shared/tensors.js';
import { expectSchema, PROTOCOL_VERSION, type TaskHeader } from '../shared/wire.js';
import { ms, trainLocally, type Answer, type AnswerDeps } from './task-answers.js';

/** `current` gives the round's secure state once training is done: a round redone meanwhile has new keys. */
export async function maskedAnswer(deps: AnswerDeps, header: TaskHeader, study: Study, global: Weights, current: () => ClientRound): Promise<Answer> {
  const started = performance.now();
  current(); // no keys for this round: refused before training
  const { result, settings } = await trainLocally(deps, header, study, global);
  const session = current();
  // A DP run: the change clipped and the site's share of the noise added, every site weighted 1.
  // Otherwise FedAvg's weight, bounded by the largest site of round 0 (a site grown since counts as that one).
  const local = header.dp === undefined ? result.weights : privatiseUpdate(global, result.weights, header.dp, secureNormal());
  const weight = header.dp === undefined ? Math.min(1, result.numExamples / session.params.maxWeight) : 1;
  const { vector, clipped } = encodeSecureVector(global, local, weight, result.numExamples, session.params, Math.random);
  const masked = maskVector(session, vector);
  const signed = { runId: header.runId, round: header.round, siteId: deps.siteId, baseModelHash: header.modelHash, updateHash: hashMasked(masked), numExamples: result.numExamples };
  const sPk = Buffer.from(session.s.publicKey).toString('hex');
  const meta = { v: PROTOCOL_VERSION, kind: 'masked-update' as const, ...signed, trainLoss: result.trainLoss, sPk, signature: sign('update', updateBody(signed), deps.keys.secretKey) };
  expectSchema(MaskedUpdateHeaderSchema, { ...meta, dtype: 'uint32', tensors: [{ name: 'masked', shape: [masked.length] }] }, 'E_INTERNAL', 'outgoing masked-update header');
  return {
    bytes: encodeFrameU32(meta, 'masked', masked),
    contribution: { runId: signed.runId, round: signed.round, updateHash: signed.updateHash, numExamples: signed.numExamples },
    summary:
      `round ${header.round}: trained ${settings.localEpochs} epochs on ${result.numExamples} rows in ${ms(started)} ms, train loss ${result.trainLoss.toFixed(5)}; ` +
      `masked update of ${masked.length} values sent${clipped > 0 ? ` (${clipped} coordinates clipped to ±${session.params.clip})` : ''}` +
      (header.dp === undefined ? '' : `; change clipped to ${header.dp.clip} with noise share σ ${header.dp.noiseStd.toPrecision(3)}`),
  };
}
