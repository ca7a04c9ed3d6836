// A task frame posted to a relay run (attacker-controlled: it comes over REST from whoever holds a
// data-scientist token), checked at the boundary before the relay loop sees it: a train or
// evaluate frame for this run and its study, whose weights hash to its modelHash and fit the study.

import { canonicalJson } from '../../shared/canonical-json.js';
import { FedrxError } from '../../shared/errors.js';
import { runStudy } from '../../shared/expand-study.js';
import { hashWeights } from '../../shared/model-hash.js';
import { weightSpecs } from '../../shared/model-spec.js';
import { inputDim, outputDim, type Study } from '../../shared/study.js';
import { firstNonFinite, specMismatch, specsOf, type Weights } from '../../shared/tensors.js';
import { decodeTaskFrame, type TaskHeader } from '../../shared/wire.js';

export interface RelayTask {
  header: TaskHeader;
  weights: Weights;
  /** The frame's study as its models read it. */
  inputs: Study;
}

/** `run`: the relay run's id and study; the frame's study must be it, so the run's config (hashed into its entries) says what its sites trained on. */
export function relayTask(run: { id: string; study: Study }, kind: 'train' | 'evaluate', body: unknown): RelayTask {
  const runId = run.id;
  if (!Buffer.isBuffer(body)) throw new FedrxError('E_BAD_REQUEST', `a relay ${kind} step takes a task frame as application/octet-stream`);
  const { header, weights } = decodeTaskFrame(body);
  if (header.kind !== kind) throw new FedrxError('E_FRAME_HEADER', `the relay ${kind} step got a ${header.kind} task frame`);
  if (header.runId !== runId) throw new FedrxError('E_WRONG_RUN', `the task frame is for run ${header.runId}, not this relay run ${runId}`);
  if (kind === 'train' && header.round < 1) throw new FedrxError('E_FRAME_HEADER', `a relay training round is numbered from 1, the frame says ${header.round}`);
  const { study, preprocessing } = header.config;
  if (canonicalJson(study) !== canonicalJson(run.study)) throw new FedrxError('E_RELAY_SETTINGS', `the task's study ${study.name} is not the one relay run ${runId} was created with (${run.study.name})`);
  const inputs = runStudy(study, preprocessing);
  const mismatch = specMismatch(specsOf(weights), weightSpecs(study.model, inputDim(inputs), outputDim(inputs)));
  if (mismatch !== null) throw new FedrxError('E_SHAPE_MISMATCH', `the frame's tensors do not fit study ${study.name}'s model: ${mismatch}`);
  const bad = firstNonFinite(weights);
  if (bad !== null) throw new FedrxError('E_NON_FINITE', `the frame's weights hold NaN or Infinity (tensor ${bad[0]}, index ${bad[1]})`);
  if (hashWeights(weights) !== header.modelHash) throw new FedrxError('E_HASH_MISMATCH', 'the frame\'s weights do not hash to its modelHash');
  return { header, weights, inputs };
}
