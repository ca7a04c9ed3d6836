import { beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../../shared/forward.js';
import { hashWeights } from '../../shared/model-hash.js';
import { denseLayers, layerWeightSpecs, weightSpecs, type DenseLayer } from '../../shared/model-spec.js';
import { encodeInputs } from '../../shared/preprocess.js';
import { inputDim, outputDim, type Study } from '../../shared/study.js';
import { decodeFrame, encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { loadTf, type Tf } from '../../site-agent/backend.js';
import { Prng } from '../../shared/prng.js';
import { buildModel, disposeModel, getWeights, predictRaw, setWeights } from '../../site-agent/tf-model.js';
import { extractAll, prepOf, warfarinRows, warfarinStudy } from './helpers.js';

let tf: Tf;
let study: Study;
let layers: DenseLayer[];

/** Random weights under the canonical specs, large enough that ReLUs both fire and clip. */
function randomWeights(seed: number): Weights {
  const rRng = new Prng(seed);
  const r = (): number => rRng.next();
  return weightSpecs(study.model, inputDim(study), outputDim(study)).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (r() - 0.5) * 1.5;
    return { name: s.name, shape: s.shape, data };
  });
}

beforeAll(async () => {
  ({ tf } = await loadTf());
  study = warfarinStudy();
  layers = denseLayers(study.model, inputDim(study), outputDim(study));
});

describe('tf-model', () => {
  it('builds the architecture of denseLayers() with the canonical weight specs', () => {
    expect(layers.map((l) => [l.inputs, l.units, l.activation])).toEqual([
      [18, 16, 'relu'],
      [16, 1, 'linear'],
    ]);
    expect(layerWeightSpecs(layers)).toEqual(weightSpecs(study.model, inputDim(study), outputDim(study)));
    const model = buildModel(tf, layers);
    try {
      expect(model.specs.map((s) => s.name)).toEqual(['dense0/kernel', 'dense0/bias', 'dense1/kernel', 'dense1/bias']);
      expect(model.variables.map((v) => v.shape)).toEqual([[18, 16], [16], [16, 1], [1]]);
    } finally {
      disposeModel(model);
    }
  });

  it('getWeights after setWeights returns the same bytes and the same hash as the coordinator computes', () => {
    const w = randomWeights(11);
    // The coordinator hashes what it decoded from a frame; do the same round trip here.
    const onWire = decodeFrame(encodeFrame({ kind: 'test' }, w)).weights;
    const model = buildModel(tf, layers);
    try {
      setWeights(model, onWire);
      const back = getWeights(model);
      expect(back.map((t) => t.name)).toEqual(w.map((t) => t.name));
      expect(back.map((t) => t.shape)).toEqual(w.map((t) => t.shape));
      back.forEach((t, i) => {
        expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(w[i]!.data.buffer))).toBe(true);
      });
      expect(hashWeights(back)).toBe(hashWeights(w));
      expect(hashWeights(back)).toBe(hashWeights(onWire));
      // A second model built later (tfjs counters have moved on) still reports the same names.
      const again = buildModel(tf, layers);
      setWeights(again, back);
      expect(hashWeights(getWeights(again))).toBe(hashWeights(w));
      disposeModel(again);
    } finally {
      disposeModel(model);
    }
  });

  it('copies weights in: mutating the caller’s arrays afterwards does not change the model', () => {
    const w = randomWeights(12);
    const before = hashWeights(w);
    const model = buildModel(tf, layers);
    try {
      setWeights(model, w);
      w[0]!.data[0] = 99;
      expect(hashWeights(getWeights(model))).toBe(before);
    } finally {
      disposeModel(model);
    }
  });

  it('rejects weights with a wrong name or shape', () => {
    const model = buildModel(tf, layers);
    try {
      const renamed = randomWeights(1).map((t, i) => (i === 2 ? { ...t, name: 'dense_Dense7/kernel' } : t));
      expect(() => setWeights(model, renamed)).toThrow(expect.objectContaining({ code: 'E_SHAPE_MISMATCH' }));
      const reshaped = randomWeights(1).map((t, i) => (i === 0 ? { ...t, shape: [16, 18] } : t));
      expect(() => setWeights(model, reshaped)).toThrow(/expected shape \[18,16\]/);
      expect(() => setWeights(model, randomWeights(1).slice(0, 3))).toThrow(/expected 4 tensors/);
    } finally {
      disposeModel(model);
    }
  });

  it('predicts what shared/forward.ts computes on the same weights (within 1e-5)', () => {
    const w = randomWeights(13);
    const width = inputDim(study);
    const rows = warfarinRows(40, 5);
    const prep = prepOf(study, rows);
    const xs = extractAll(study, rows).map((row) => {
      const x = new Float32Array(width);
      encodeInputs(study, prep, row, x);
      return x;
    });
    const flat = new Float32Array(xs.length * width);
    xs.forEach((x, i) => flat.set(x, i * width));
    const model = buildModel(tf, layers);
    try {
      setWeights(model, w);
      const got = predictRaw(model, flat, xs.length, 7); // odd batch size: exercises the batching
      expect(got.length).toBe(xs.length);
      let spread = 0;
      xs.forEach((x, i) => {
        const want = forward(layers, w, x)[0]!;
        expect(Math.abs(got[i]! - want)).toBeLessThan(1e-5);
        spread = Math.max(spread, Math.abs(want - forward(layers, w, xs[0]!)[0]!));
      });
      expect(spread).toBeGreaterThan(0.1); // predictions differ: the comparison is not vacuous
    } finally {
      disposeModel(model);
    }
  });

  it('releases every tensor it allocates', () => {
    const start = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const model = buildModel(tf, layers);
      setWeights(model, randomWeights(i));
      getWeights(model);
      predictRaw(model, new Float32Array(3 * inputDim(study)), 3);
      disposeModel(model);
    }
    expect(tf.memory().numTensors).toBe(start);
  });
});

