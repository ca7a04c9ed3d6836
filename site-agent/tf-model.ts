// The tfjs side of the model: a stack of dense layers built from denseLayers() (shared/model-spec.ts),
// the single definition of the architecture, with weights moved in and out under our canonical
// names (dense0/kernel, dense0/bias, ...). tfjs's own weight names carry process-wide counters
// (dense_Dense3/kernel) so they are never used: tensors are matched by position in the stack.

import type { Sequential, Tensor, Variable } from '@tensorflow/tfjs';
import { FedrxError } from '../shared/errors.js';
import { layerWeightSpecs, type DenseLayer } from '../shared/model-spec.js';
import { sizeOf, specMismatch, specsOf, type TensorSpec, type Weights } from '../shared/tensors.js';
import type { Tf } from './backend.js';

export interface TfModel {
  readonly tf: Tf;
  readonly net: Sequential;
  readonly layers: readonly DenseLayer[];
  /** Canonical names and shapes, in travel/hash order (same as weightSpecs()). */
  readonly specs: readonly TensorSpec[];
  /** The trainable variables in the order of `specs`: what the optimizer updates. */
  readonly variables: readonly Variable[];
}

export function buildModel(tf: Tf, layers: readonly DenseLayer[]): TfModel {
  if (layers.length === 0) throw new FedrxError('E_SHAPE_MISMATCH', 'a model needs at least one layer');
  const net = tf.sequential();
  layers.forEach((l, i) => {
    net.add(
      tf.layers.dense({
        units: l.units,
        activation: l.activation,
        useBias: true,
        // Every task brings its weights, so initial values never matter: zeros are cheap and fixed.
        kernelInitializer: 'zeros',
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [l.inputs] } : {}),
      }),
    );
  });
  const variables: Variable[] = [];
  for (const layer of net.layers) {
    // Dense stores [kernel, bias]; read() hands back the underlying tf.Variable itself.
    for (const w of layer.trainableWeights) variables.push(w.read() as Variable);
  }
  const specs = layerWeightSpecs(layers);
  const mismatch = specMismatch(
    variables.map((v, i) => ({ name: specs[i]?.name ?? `#${i}`, shape: v.shape })),
    specs,
  );
  if (mismatch !== null) {
    net.dispose();
    throw new FedrxError('E_INTERNAL', `tfjs built an unexpected model: ${mismatch}`);
  }
  return { tf, net, layers, specs, variables };
}

/** Loads `weights` into the model after checking names and shapes; copies the data. */
export function setWeights(model: TfModel, weights: Weights): void {
  const mismatch = specMismatch(specsOf(weights), model.specs);
  if (mismatch !== null) throw new FedrxError('E_SHAPE_MISMATCH', `weights do not fit the model: ${mismatch}`);
  weights.forEach((w, i) => {
    if (w.data.length !== sizeOf(w.shape)) {
      throw new FedrxError('E_SHAPE_MISMATCH', `tensor ${w.name}: ${w.data.length} values for shape [${w.shape.join(',')}]`);
    }
    // A copy: the cpu backend would otherwise alias the caller's array (often a view into a frame).
    const t = model.tf.tensor(new Float32Array(w.data), w.shape, 'float32');
    model.variables[i]!.assign(t);
    t.dispose();
  });
}

/** The model's current weights under canonical names; copies out of the backend. */
export function getWeights(model: TfModel): Weights {
  return model.variables.map((v, i) => ({
    name: model.specs[i]!.name,
    shape: [...v.shape],
    data: new Float32Array(v.dataSync()),
  }));
}

/** Raw outputs (before sigmoid/softmax) for `n` rows of `x`, batched to bound memory. */
export function predictRaw(model: TfModel, x: Float32Array, n: number, batch = 4096): Float32Array {
  const width = model.layers[0]!.inputs;
  const outDim = model.layers[model.layers.length - 1]!.units;
  if (x.length !== n * width) throw new FedrxError('E_SHAPE_MISMATCH', `expected ${n}×${width} inputs, got ${x.length} values`);
  const out = new Float32Array(n * outDim);
  const { tf } = model;
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    const y = tf.tidy(() => {
      const xs = tf.tensor2d(x.subarray(start * width, (start + rows) * width), [rows, width]);
      return model.net.predict(xs) as Tensor;
    });
    out.set(y.dataSync(), start * outDim);
    y.dispose();
  }
  return out;
}

export function disposeModel(model: TfModel): void {
  model.net.dispose();
}
