// A training task of a run that compresses its updates (shared/compression/): train as usual, then
// send the change from the global model, plus what error feedback held back, as float16 halves or
// top-k entries. The site signs the payload as sent (hashCompressed); the coordinator adds the
// decoded change to the same global model.

import { compressUpdate } from '../shared/compression/update-codec.js';
import { encodeCompressedUpdate } from '../shared/compression/wire.js';
import { describeCompression } from '../shared/compression/settings.js';
import { FedrxError } from '../shared/errors.js';
import { hashCompressed } from '../shared/model-hash.js';
import { sign, updateBody } from '../shared/signing.js';
import type { Study } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import type { TaskHeader } from '../shared/wire.js';
import type { Residuals } from './residuals.js';
import { ms, trainLocally, type Answer, type AnswerDeps } from './task-answers.js';

export async function compressedAnswer(deps: AnswerDeps, header: TaskHeader, study: Study, global: Weights, residuals: Residuals): Promise<Answer> {
  const compression = header.config.compression;
  if (compression === undefined) throw new FedrxError('E_INTERNAL', 'a compressed answer to a task without compression');
  // The coordinator refuses this pairing at run start; a site does not take a DP clip bound on trust either.
  if (header.dp !== undefined || header.secure === true) throw new FedrxError('E_COMPRESSION_SETTINGS', 'a compressed update cannot carry a DP clip bound or a masked update');
  const started = performance.now();
  const { result, settings } = await trainLocally(deps, header, study, global);
  const { payload, residual } = compressUpdate(global, result.weights, compression, residuals.carryInto(header.runId, header.round));
  const signed = {
    runId: header.runId,
    round: header.round,
    siteId: deps.siteId,
    baseModelHash: header.modelHash,
    updateHash: hashCompressed(payload.codec, payload.data),
    numExamples: result.numExamples,
  };
  const bytes = encodeCompressedUpdate({ ...signed, trainLoss: result.trainLoss, signature: sign('update', updateBody(signed), deps.keys.secretKey) }, payload);
  await residuals.record(header.runId, header.round, residual);
  return {
    bytes,
    contribution: { runId: signed.runId, round: signed.round, updateHash: signed.updateHash, numExamples: signed.numExamples },
    summary:
      `round ${header.round}: trained ${settings.localEpochs} epochs on ${result.numExamples} rows in ${ms(started)} ms, train loss ${result.trainLoss.toFixed(5)}; ` +
      `change sent as ${describeCompression(compression)} in ${bytes.length} bytes (${payload.data.length} ${payload.codec === 'float16' ? 'halves' : 'sparse words'})`,
  };
}
