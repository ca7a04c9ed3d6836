// An update as a hostile site shapes it: one flat float32 vector of differences from the global
// model, in the model's tensor order, and back. Pure.

import { FedrxError } from '../errors.js';
import { specMismatch, totalParams, type Weights } from '../tensors.js';

/** local − global, flattened. */
export function deltaOf(global: Weights, local: Weights): Float32Array {
  const bad = specMismatch(local, global);
  if (bad !== null) throw new FedrxError('E_SHAPE_MISMATCH', bad);
  const out = new Float32Array(totalParams(global));
  let at = 0;
  global.forEach((g, k) => {
    const x = local[k]!.data;
    for (let i = 0; i < g.data.length; i++) out[at++] = x[i]! - g.data[i]!;
  });
  return out;
}

/** global + delta, as weights of the global model's names and shapes. */
export function plusDelta(global: Weights, delta: Float32Array): Weights {
  if (delta.length !== totalParams(global)) {
    throw new FedrxError('E_SHAPE_MISMATCH', `a delta of ${delta.length} values for a model of ${totalParams(global)}`);
  }
  let at = 0;
  return global.map((g) => {
    const data = new Float32Array(g.data.length);
    for (let i = 0; i < data.length; i++) data[i] = g.data[i]! + delta[at++]!;
    return { name: g.name, shape: [...g.shape], data };
  });
}
