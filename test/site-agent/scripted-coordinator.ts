// What a scripted coordinator sends an agent: a challenge and a welcome, global models and the
// task frames that carry them.

import { hashWeights } from '../../shared/model-hash.js';
import { weightSpecs } from '../../shared/model-spec.js';
import { Prng } from '../../shared/prng.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { inputDim, outputDim, type Study } from '../../shared/study.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';

/** A seeded global model of the study's shape. */
export function globalWeights(s: Study, seed = 1): Weights {
  const rRng = new Prng(seed);
  const r = (): number => rRng.next();
  return weightSpecs(s.model, inputDim(s), outputDim(s)).map((t) => ({
    name: t.name,
    shape: t.shape,
    data: Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 0.4),
  }));
}

/** A train or evaluate task of run-1 (unless told) over `w`, declaring its true hash (unless told). */
export function taskFrame(kind: 'train' | 'evaluate', round: number, w: Weights, config: TaskConfig, opts: { runId?: string; modelHash?: string } = {}): Buffer {
  return encodeFrame({ v: PROTOCOL_VERSION, kind, runId: opts.runId ?? 'run-1', round, modelHash: opts.modelHash ?? hashWeights(w), config }, w);
}

export const challenge = (key: string, nonce = 'a1'.repeat(32)) => ({ type: 'challenge', v: 1, nonce, coordinatorKey: key, expiresInSec: 30 });
export const welcome = (length: number, headHash: string, siteId = 'site-a') => ({ type: 'welcome', v: 1, siteId, ledger: { length, headHash } });
