// A whole update, compressed: the site sends its change from the global model (trained − global,
// all tensors as one flat vector in table order), with error feedback, as float16 halves or as a
// top-k sparse vector; the coordinator decodes it (attacker-controlled) and adds it to the same
// global model. Pure: both ends run these functions on the same bytes and get the same weights.

import { FedrxError } from '../errors.js';
import { deltaOf, plusDelta } from '../byzantine/update-delta.js';
import { totalParams, type Weights } from '../tensors.js';
import { compensate, residualOf } from './error-feedback.js';
import { decodeHalves, encodeHalves } from './float16.js';
import type { Codec, Compression } from './settings.js';
import { packSparse, scatter, unpackSparse } from './sparse.js';
import { topK, topkCount } from './top-k.js';

/** What travels: half bit patterns (one per parameter), or 2k sparse words (sparse.ts). */
export type Payload = { codec: 'float16'; data: Uint16Array } | { codec: 'topk'; data: Uint32Array };

/**
 * The site's side: this round's change plus `residual` (what earlier rounds did not send), encoded;
 * and the new residual, what the coordinator will not read of it. E_NON_FINITE for a change float16
 * cannot hold (float16.ts says why it is refused rather than clipped).
 */
export function compressUpdate(global: Weights, trained: Weights, c: Compression, residual: Float32Array | null): { payload: Payload; residual: Float32Array } {
  const meant = compensate(deltaOf(global, trained), residual);
  if (c.codec === 'float16') {
    const data = encodeHalves(meant);
    return { payload: { codec: 'float16', data }, residual: residualOf(meant, decodeHalves(data)) };
  }
  const kept = topK(meant, topkCount(c.fraction, meant.length));
  return { payload: { codec: 'topk', data: packSparse(kept) }, residual: residualOf(meant, scatter(kept, meant.length)) };
}

/** Attacker-controlled `payload`: the flat change it stands for, checked against the run's codec and the model's size. */
export function decodeDelta(payload: Payload, c: Compression, params: number): Float32Array {
  const other = (): FedrxError => new FedrxError('E_COMPRESSED_UPDATE', `the update is compressed with ${payload.codec}, the run with ${c.codec}`);
  if (c.codec === 'float16') {
    if (payload.codec !== 'float16') throw other();
    if (payload.data.length !== params) throw new FedrxError('E_COMPRESSED_UPDATE', `a float16 update of ${payload.data.length} values for a model of ${params}`);
    return decodeHalves(payload.data);
  }
  if (payload.codec !== 'topk') throw other();
  return scatter(unpackSparse(payload.data, params, topkCount(c.fraction, params)), params);
}

/** The coordinator's side: the weights a compressed update stands for, global + its decoded change. */
export function reconstructUpdate(global: Weights, payload: Payload, c: Compression): Weights {
  return plusDelta(global, decodeDelta(payload, c, totalParams(global)));
}

export const CODEC_DTYPES: Readonly<Record<Codec, 'float16' | 'uint32'>> = { float16: 'float16', topk: 'uint32' };
