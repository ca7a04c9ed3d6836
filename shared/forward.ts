// Plain forward pass of the dense stack from shared/model-spec.ts, in float64 over float32
// weights: what the coordinator uses to answer predictions without loading tfjs.

import { FedrxError } from './errors.js';
import type { DenseLayer } from './model-spec.js';
import type { Weights } from './tensors.js';

export function forward(layers: readonly DenseLayer[], weights: Weights, x: Float32Array): Float64Array {
  if (weights.length !== layers.length * 2) throw new FedrxError('E_SHAPE_MISMATCH', 'weights do not fit the model layers');
  let a: ArrayLike<number> = x;
  layers.forEach((layer, li) => {
    const kernel = weights[li * 2]!.data;
    const bias = weights[li * 2 + 1]!.data;
    if (a.length !== layer.inputs || kernel.length !== layer.inputs * layer.units) {
      throw new FedrxError('E_SHAPE_MISMATCH', `layer ${layer.name}: input of ${a.length}, expected ${layer.inputs}`);
    }
    const out = new Float64Array(layer.units);
    for (let j = 0; j < layer.units; j++) {
      let s = bias[j]!;
      // Kernel is [inputs, units], row-major as tfjs stores it.
      for (let i = 0; i < layer.inputs; i++) s += a[i]! * kernel[i * layer.units + j]!;
      out[j] = layer.activation === 'relu' ? Math.max(0, s) : layer.activation === 'tanh' ? Math.tanh(s) : s;
    }
    a = out;
  });
  return a as Float64Array;
}
