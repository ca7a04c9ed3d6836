// The model architecture, defined once: a stack of dense layers derived from a spec. The tfjs
// builder (site agents) and the plain forward pass (coordinator predictions) both read it.

import { Type, type Static } from '@sinclair/typebox';
import type { TensorSpec } from './tensors.js';

/** A penalty: finite, not negative (NaN and Infinity cannot pass a TypeBox number). */
const L2Value = Type.Number({ minimum: 0, maximum: 1e6 });

export const ModelSpecSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('linear'), Type.Literal('mlp')]),
    // Up to 16,384 units, for models of hundreds of millions of weights (MAX_PARAMS at most), whose updates stream in chunks.
    hidden: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 16384 }), { maxItems: 8 })),
    activation: Type.Optional(Type.Union([Type.Literal('relu'), Type.Literal('tanh')])),
    /**
     * L2 penalty λ on the kernels (never the biases): the objective is the mean per-example loss over
     * the training rows + λ/2·Σ kernel², the same for the exact fit and for local SGD (weight decay).
     * A list or 'auto' asks the run to choose λ by federated validation (exact fits only).
     */
    l2: Type.Optional(Type.Union([L2Value, Type.Array(L2Value, { minItems: 1, maxItems: 64 }), Type.Literal('auto')])),
  },
  { additionalProperties: false },
);
export type ModelSpec = Static<typeof ModelSpecSchema>;

export interface DenseLayer {
  name: string;
  inputs: number;
  units: number;
  activation: 'linear' | 'relu' | 'tanh';
}

/** Layers of the model; the last is linear (the loss adds sigmoid/softmax where needed). */
export function denseLayers(spec: ModelSpec, inputDim: number, outputDim: number): DenseLayer[] {
  const hidden = spec.type === 'linear' ? [] : (spec.hidden ?? [32]);
  const act = spec.activation ?? 'relu';
  const sizes = [inputDim, ...hidden, outputDim];
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push({
      name: `dense${i}`,
      inputs: sizes[i]!,
      units: sizes[i + 1]!,
      activation: i + 2 === sizes.length ? 'linear' : act,
    });
  }
  return layers;
}

/** Names and shapes of the layers' tensors, in the order they travel and are hashed. */
export function layerWeightSpecs(layers: readonly DenseLayer[]): TensorSpec[] {
  return layers.flatMap((l) => [
    { name: `${l.name}/kernel`, shape: [l.inputs, l.units] },
    { name: `${l.name}/bias`, shape: [l.units] },
  ]);
}

export function weightSpecs(spec: ModelSpec, inputDim: number, outputDim: number): TensorSpec[] {
  return layerWeightSpecs(denseLayers(spec, inputDim, outputDim));
}
