// Seeded initial weights for a dense stack (Glorot-uniform kernels, zero biases), so the starting
// model of a run is reproducible from its config alone and needs no tfjs on the coordinator.

import { weightSpecs, type ModelSpec } from './model-spec.js';
import { deriveSeed, Prng } from './prng.js';
import { sizeOf, type Weights } from './tensors.js';

export function initialWeights(spec: ModelSpec, inputDim: number, outputDim: number, seed: number | string): Weights {
  const rng = new Prng(deriveSeed(seed, 'model-init'));
  return weightSpecs(spec, inputDim, outputDim).map(({ name, shape }) => {
    const data = new Float32Array(sizeOf(shape));
    if (shape.length === 2) {
      const limit = Math.sqrt(6 / (shape[0]! + shape[1]!));
      for (let i = 0; i < data.length; i++) data[i] = (rng.next() * 2 - 1) * limit;
    }
    return { name, shape, data };
  });
}
