import { beforeAll, describe, expect, it } from 'vitest';
import { aucFromCounts } from '../../shared/auc.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import { metricsFromSums, type RegressionSums } from '../../shared/metrics.js';
import { hashWeights } from '../../shared/model-hash.js';
import { denseLayers, weightSpecs, type DenseLayer } from '../../shared/model-spec.js';
import type { TrainingSettings } from '../../shared/run-config.js';
import { inputDim, outputDim, type Study } from '../../shared/study.js';
import type { Weights } from '../../shared/tensors.js';
import type { EvalSums } from '../../shared/wire.js';
import { loadTf, type Tf } from '../../site-agent/backend.js';
import type { DataPart } from '../../site-agent/local-data.js';
import { evaluateLocal, trainLocal } from '../../site-agent/trainer.js';
import { binOf, CLASSIFICATION_LAYOUT, emptySketch, REGRESSION_LAYOUT } from '../../shared/conformal/score-sketch.js';
import { WeightedMeanAggregator } from '../../coordinator/strategies/weighted-mean.js';
import { gaussian } from './helpers.js';

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await loadTf());
});

const num = (name: string) => ({ kind: 'numeric' as const, name, min: -100, max: 100 });

/** y = 10 + 2·(2x1 − x2 + 0.5x3) + noise, in mg; the model sees (y − 10)/2. */
const linearStudy: Study = {
  name: 'linear',
  task: 'regression',
  features: [num('x1'), num('x2'), num('x3')],
  target: { name: 'y', transform: 'identity', min: -1000, max: 1000 },
  model: { type: 'linear' },
  holdout: { fraction: 0.2, seed: 1 },
};

/** The run's preprocessing: inputs already standard, target standardised by mean 10 and SD 2. */
const linearPrep: Preprocessing = {
  rows: 200,
  numeric: { x1: { mean: 0, sd: 1 }, x2: { mean: 0, sd: 1 }, x3: { mean: 0, sd: 1 } },
  target: { mean: 10, sd: 2 },
};

/** Classification: no target standardisation, inputs pass through. */
const blobPrep: Preprocessing = { rows: 300, numeric: { u: { mean: 0, sd: 1 }, v: { mean: 0, sd: 1 } } };

function regression(s: EvalSums): RegressionSums {
  if (!('absErr' in s)) throw new Error('expected regression sums');
  return s;
}

function accuracy(s: EvalSums): number {
  if (!('correct' in s)) throw new Error('expected classification sums');
  return s.correct / s.n;
}

function linearData(n: number, seed: number): DataPart {
  const g = gaussian(seed);
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n);
  const actual = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b, c] = [g(), g(), g()];
    x.set([a, b, c], i * 3);
    y[i] = 2 * a - b + 0.5 * c + 0.1 * g();
    actual[i] = 10 + 2 * y[i]!; // in mg
  }
  return { x, y, actual, n };
}

function classData(n: number, k: number, seed: number): DataPart {
  // k well separated blobs in 2-D.
  const g = gaussian(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    const angle = (2 * Math.PI * c) / k;
    x.set([3 * Math.cos(angle) + 0.5 * g(), 3 * Math.sin(angle) + 0.5 * g()], i * 2);
    y[i] = c;
  }
  return { x, y, actual: Float64Array.from(y), n };
}

/** Classes of blobs in the (u, v) plane. */
const blobStudy = (classes: string[], model: Study['model']): Study => ({
  name: 'blobs',
  task: 'classification',
  features: [num('u'), num('v')],
  target: { name: 'label', classes },
  model,
  holdout: { fraction: 0.2, seed: 1 },
});

function zeros(study: Study): Weights {
  return weightSpecs(study.model, inputDim(study), outputDim(study)).map((s) => ({
    name: s.name,
    shape: s.shape,
    data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)),
  }));
}

const layersOf = (study: Study): DenseLayer[] => denseLayers(study.model, inputDim(study), outputDim(study));
const settings = (over: Partial<TrainingSettings> = {}): TrainingSettings => ({
  localEpochs: 20,
  lr: 0.05,
  lrDecay: 1,
  batchSize: 16,
  optimizer: 'adam',
  seed: 3,
  ...over,
});
const distance = (a: Weights, b: Weights): number =>
  Math.sqrt(a.reduce((s, t, i) => s + t.data.reduce((u, v, j) => u + (v - b[i]!.data[j]!) ** 2, 0), 0));

describe('trainLocal / evaluateLocal', () => {
  const layers = layersOf(linearStudy);
  const train = linearData(200, 1);
  const test = linearData(50, 2);

  it('counts each row\'s nonconformity score |ẑ − z| (model space) into the fixed bins when asked, and only then', () => {
    const global = zeros(linearStudy);
    expect(evaluateLocal(tf, linearStudy, linearPrep, layers, global, test).sketch).toBeUndefined();
    const { sketch } = evaluateLocal(tf, linearStudy, linearPrep, layers, global, test, true);
    // The zero model predicts ẑ = 0: each score is |z|.
    const want = emptySketch(REGRESSION_LAYOUT);
    test.y.forEach((z) => want[binOf(REGRESSION_LAYOUT, Math.abs(z))]!++);
    expect(sketch).toEqual(want);
    expect(sketch!.reduce((a, b) => a + b, 0)).toBe(50);
  });

  it('classification: counts 1 − p̂(true class) into the probability bins', () => {
    // The zero model gives p = 1/k to every class: each score is 1 − 1/k.
    for (const classes of [['no', 'yes'], ['a', 'b', 'c', 'd']]) {
      const study = blobStudy(classes, { type: 'linear' });
      const { sketch } = evaluateLocal(tf, study, blobPrep, layersOf(study), zeros(study), classData(40, classes.length, 5), true);
      const want = emptySketch(CLASSIFICATION_LAYOUT);
      want[binOf(CLASSIFICATION_LAYOUT, 1 - 1 / classes.length)] = 40;
      expect(sketch).toEqual(want);
    }
  });

  it('with a groupBy feature, sums the held-out rows per level too, every row in exactly one level', () => {
    const grouped: Study = { ...linearStudy, features: [...linearStudy.features, { kind: 'categorical', name: 'grp', levels: ['p', 'q'] }], groupBy: 'grp' };
    const x = new Float32Array(50 * 4);
    test.x.forEach((v, j) => (x[Math.floor(j / 3) * 4 + (j % 3)] = v));
    const part: DataPart = { ...test, x, group: Int32Array.from({ length: 50 }, (_, i) => i % 2) };
    const score = evaluateLocal(tf, grouped, linearPrep, layersOf(grouped), zeros(grouped), part);
    // The zero model predicts 10 mg for everyone.
    const absErr = (parity: number): number => test.actual.reduce((s, v, i) => s + (i % 2 === parity ? Math.abs(10 - v) : 0), 0);
    expect(score.groups!.map((g) => [g.level, g.sums.n])).toEqual([['p', 25], ['q', 25]]);
    expect(regression(score.groups![0]!.sums).absErr).toBeCloseTo(absErr(0), 9);
    expect(regression(score.groups![1]!.sums).absErr).toBeCloseTo(absErr(1), 9);
    expect(regression(score.sums).absErr).toBeCloseTo(absErr(0) + absErr(1), 9);
  });

  it('lowers the loss on a linear problem and beats predicting the mean', async () => {
    const global = zeros(linearStudy);
    const before = evaluateLocal(tf, linearStudy, linearPrep, layers, global, test);
    const result = await trainLocal(tf, linearStudy, layers, global, train, settings());
    const after = evaluateLocal(tf, linearStudy, linearPrep, layers, result.weights, test);
    expect(result.numExamples).toBe(200);
    expect(before.numExamples).toBe(50);
    expect(result.trainLoss).toBeLessThan(0.05);
    expect(after.loss).toBeLessThan(before.loss / 20);
    // The zero model predicts z = 0, i.e. 10 mg for everyone: its sums are known exactly.
    const zero = regression(before.sums);
    expect(zero.n).toBe(50);
    expect(zero.sumY).toBeCloseTo(test.actual.reduce((s, v) => s + v, 0), 9);
    expect(zero.sumY2).toBeCloseTo(test.actual.reduce((s, v) => s + v * v, 0), 9);
    expect(zero.absErr).toBeCloseTo(test.actual.reduce((s, v) => s + Math.abs(10 - v), 0), 9);
    expect(zero.sqErr).toBeCloseTo(test.actual.reduce((s, v) => s + (10 - v) ** 2, 0), 9);
    expect(zero.within20).toBe(test.actual.filter((v) => Math.abs(10 - v) <= 0.2 * v).length);
    // MAE is in the target's unit: the mean's MAE, with y = 10 + 2·z.
    const mean = test.y.reduce((s, v) => s + v, 0) / test.n;
    const maeOfMean = (test.y.reduce((s, v) => s + Math.abs(v - mean), 0) / test.n) * 2;
    const metrics = metricsFromSums(regression(after.sums));
    expect(metrics.n).toBe(50);
    expect(metrics.mae).toBeLessThan(maeOfMean / 5);
    expect(metrics.mae).toBeLessThan(0.5);
    expect(metrics.r2).toBeGreaterThan(0.99);
    // The learnt kernel is the generating one.
    expect([...result.weights[0]!.data].map((v) => Math.round(v * 10) / 10)).toEqual([2, -1, 0.5]);
  });

  it('trains with plain SGD too', async () => {
    const result = await trainLocal(tf, linearStudy, layers, zeros(linearStudy), train, settings({ optimizer: 'sgd', lr: 0.05 }));
    expect(result.trainLoss).toBeLessThan(0.05);
  });

  it('is reproducible for a seed and changes with it', async () => {
    const a = await trainLocal(tf, linearStudy, layers, zeros(linearStudy), train, settings({ localEpochs: 2 }));
    const b = await trainLocal(tf, linearStudy, layers, zeros(linearStudy), train, settings({ localEpochs: 2 }));
    const c = await trainLocal(tf, linearStudy, layers, zeros(linearStudy), train, settings({ localEpochs: 2, seed: 4 }));
    expect(hashWeights(a.weights)).toBe(hashWeights(b.weights));
    expect(hashWeights(a.weights)).not.toBe(hashWeights(c.weights));
  });

  it('adds FedProx\'s mu·(w − w_global) to the gradient: two SGD steps worked by hand', async () => {
    // One row x = (1, 0, 0), y = 1; global w = 0, b = 0; SGD lr 0.1, batch 1, 2 epochs; loss (ŷ − y)².
    // Step 1 at the global model: ŷ = 0, ∂/∂w1 = ∂/∂b = 2(0 − 1) = −2, proximal part 0 → w1 = b = 0.2.
    // Step 2: ŷ = 0.4, data part 2(0.4 − 1) = −1.2; proximal part mu·(0.2 − 0) = 0.2 with mu = 1
    //         → w1 = b = 0.2 + 0.1·(1.2 − 0.2) = 0.3; without it 0.2 + 0.1·1.2 = 0.32.
    const one: DataPart = { x: new Float32Array([1, 0, 0]), y: new Float32Array([1]), actual: new Float64Array([12]), n: 1 };
    const s = settings({ optimizer: 'sgd', lr: 0.1, batchSize: 1, localEpochs: 2 });
    const flat = (w: Weights): number[] => w.flatMap((t) => [...t.data]);
    const prox = await trainLocal(tf, linearStudy, layers, zeros(linearStudy), one, s, 1);
    const plain = await trainLocal(tf, linearStudy, layers, zeros(linearStudy), one, s, 0);
    expect(prox.weights.map((t) => t.name)).toEqual(['dense0/kernel', 'dense0/bias']);
    flat(prox.weights).forEach((v, i) => expect(v).toBeCloseTo([0.3, 0, 0, 0.3][i]!, 6));
    flat(plain.weights).forEach((v, i) => expect(v).toBeCloseTo([0.32, 0, 0, 0.32][i]!, 6));
    // The reported loss is the data loss alone: (0.3 + 0.3 − 1)² = 0.16.
    expect(prox.trainLoss).toBeCloseTo(0.16, 6);
  });

  it('adds the L2 penalty λ·w to the kernels\' gradient, never the bias\'s: one SGD step worked by hand', async () => {
    // Global kernel (2, 1, 0), bias 0; one row x = (1, 0, 0), y = 1 → ŷ = 2, data gradient
    // 2(ŷ − y)·x = (2, 0, 0) and 2 for the bias; λ = 0.5 adds λ·w = (1, 0.5, 0) to the kernel's.
    // lr 0.1: kernel (2 − 0.3, 1 − 0.05, 0) = (1.7, 0.95, 0), bias −0.2; without λ (1.8, 1, 0), −0.2.
    const one: DataPart = { x: new Float32Array([1, 0, 0]), y: new Float32Array([1]), actual: new Float64Array([12]), n: 1 };
    const s = settings({ optimizer: 'sgd', lr: 0.1, batchSize: 1, localEpochs: 1 });
    const global = zeros(linearStudy);
    global[0]!.data.set([2, 1, 0]);
    const flat = (w: Weights): number[] => w.flatMap((t) => [...t.data]);
    const decayed = await trainLocal(tf, { ...linearStudy, model: { type: 'linear', l2: 0.5 } }, layers, global, one, s);
    const plain = await trainLocal(tf, linearStudy, layers, global, one, s);
    flat(decayed.weights).forEach((v, i) => expect(v).toBeCloseTo([1.7, 0.95, 0, -0.2][i]!, 6));
    flat(plain.weights).forEach((v, i) => expect(v).toBeCloseTo([1.8, 1, 0, -0.2][i]!, 6));
    // The reported loss is the data loss alone: (1.7 − 0.2 − 1)² = 0.25.
    expect(decayed.trainLoss).toBeCloseTo(0.25, 6);
  });

  it('decays every kernel of an MLP and no bias (a fit row: the data gradient is zero)', async () => {
    const mlp: Study = { ...linearStudy, model: { type: 'mlp', hidden: [2], activation: 'relu', l2: 0.5 } };
    // hidden = relu(x·W1 + b1) = (1, 0.3); ŷ = 0.5·1 + 0·0.3 + 0.5 = 1 = y.
    const global = zeros(mlp);
    global[0]!.data.set([1, 0, 0, 0, 0, 0]);
    global[1]!.data.set([0, 0.3]);
    global[2]!.data.set([0.5, 0]);
    global[3]!.data.set([0.5]);
    const one: DataPart = { x: new Float32Array([1, 0, 0]), y: new Float32Array([1]), actual: new Float64Array([12]), n: 1 };
    const r = await trainLocal(tf, mlp, layersOf(mlp), global, one, settings({ optimizer: 'sgd', lr: 0.1, batchSize: 1, localEpochs: 1 }));
    // Kernels shrink by lr·λ = 5%; biases keep their values.
    expect([...r.weights[0]!.data]).toEqual([0.95, 0, 0, 0, 0, 0].map((v) => expect.closeTo(v, 6)));
    expect([...r.weights[1]!.data]).toEqual([0, 0.3].map((v) => expect.closeTo(v, 6)));
    expect([...r.weights[2]!.data]).toEqual([0.475, 0].map((v) => expect.closeTo(v, 6)));
    expect(r.weights[3]!.data[0]).toBeCloseTo(0.5, 6);
  });

  it('FedAvg of full-batch steps with λ reaches the pooled ridge solution worked in closed form', async () => {
    // One input: minimise (1/n)·Σ(y − w·x − b)² + λ/2·w² over both sites' rows pooled.
    // Centred: w = (2/n)·Σ x̃ỹ / ((2/n)·Σ x̃² + λ), b = ȳ − w·x̄.
    const ridge: Study = { ...linearStudy, features: [num('x1')], model: { type: 'linear', l2: 0.8 } };
    const site = (xs: number[], ys: number[]): DataPart => ({ x: Float32Array.from(xs), y: Float32Array.from(ys), actual: Float64Array.from(ys), n: xs.length });
    const sites = [site([0, 1, 2], [1, 2, 4]), site([3, 4], [4, 7])];
    const xs = [0, 1, 2, 3, 4];
    const ys = [1, 2, 4, 4, 7];
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    const sxy = xs.reduce((a, x, i) => a + (x - mean(xs)) * (ys[i]! - mean(ys)), 0); // 14
    const sxx = xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0); // 10
    const w = ((2 / 5) * sxy) / ((2 / 5) * sxx + 0.8); // 5.6 / 4.8
    const b = mean(ys) - w * mean(xs);
    const ls = layersOf(ridge);
    let global = zeros(ridge);
    for (let round = 1; round <= 400; round++) {
      const agg = new WeightedMeanAggregator({ runId: 'r', round, globalWeights: global, globalHash: 'h', selected: new Set(['a', 'b']) });
      for (const [i, part] of sites.entries()) {
        const r = await trainLocal(tf, ridge, ls, global, part, settings({ optimizer: 'sgd', lr: 0.1, batchSize: 65536, localEpochs: 1 }));
        expect(agg.accept({ siteId: 'ab'[i]!, runId: 'r', round, baseModelHash: 'h', numExamples: r.numExamples, updateHash: 'u', weights: r.weights })).toEqual({ accepted: true });
      }
      global = agg.finalize()!.weights;
    }
    expect(global[0]!.data[0]).toBeCloseTo(w, 4);
    expect(global[1]!.data[0]).toBeCloseTo(b, 4);
    // Without the penalty the slope would be the least-squares 1.4: the penalty visibly shrinks it.
    expect(w).toBeCloseTo(7 / 6, 10);
  });

  it('refuses a penalty grid or auto: local training needs one λ', async () => {
    const grid: Study = { ...linearStudy, model: { type: 'linear', l2: [0.1, 1] } };
    await expect(trainLocal(tf, grid, layers, zeros(grid), train, settings())).rejects.toMatchObject({ code: 'E_BAD_REQUEST' });
  });

  it('a huge proximal mu keeps the weights near the global model', async () => {
    const global = zeros(linearStudy);
    global[0]!.data.set([0.3, 0.3, 0.3]);
    const run = (mu: number) => trainLocal(tf, linearStudy, layers, global, train, settings(), mu);
    const [free, small, held] = [await run(0), await run(0.01), await run(1e4)];
    expect(distance(free.weights, global)).toBeGreaterThan(2); // the data pulls toward (2, −1, 0.5)
    expect(distance(small.weights, global)).toBeGreaterThan(1.5);
    // At the optimum ‖w − w_global‖ = ‖∇loss‖/mu, a few 1e-4 here.
    expect(distance(held.weights, global)).toBeLessThan(0.01);
  });

  it('reports accuracy for binary and multi-class classification', async () => {
    for (const classes of [['no', 'yes'], ['a', 'b', 'c']]) {
      const study = blobStudy(classes, { type: 'mlp', hidden: [8], activation: 'tanh' });
      const ls = layersOf(study);
      // Small random start: an all-zero MLP has no gradient through its hidden layer.
      const g = gaussian(9);
      const global = zeros(study).map((t) => ({ ...t, data: t.data.map(() => 0.3 * g()) }));
      const before = evaluateLocal(tf, study, blobPrep, ls, global, classData(90, classes.length, 8));
      const result = await trainLocal(tf, study, ls, global, classData(300, classes.length, 7), settings({ localEpochs: 15 }));
      const after = evaluateLocal(tf, study, blobPrep, ls, result.weights, classData(90, classes.length, 8));
      expect(after.loss).toBeLessThan(before.loss);
      expect(after.sums.n).toBe(90);
      expect(accuracy(after.sums)).toBeGreaterThan(0.95);
      expect(accuracy(after.sums)).toBeLessThanOrEqual(1);
    }
  });

  it('sends AUC counts only when the study reports AUC: one curve per class beyond two, every held-out row counted', async () => {
    for (const classes of [['no', 'yes'], ['a', 'b', 'c']]) {
      const study = blobStudy(classes, { type: 'linear' });
      const ls = layersOf(study);
      const result = await trainLocal(tf, study, ls, zeros(study), classData(300, classes.length, 7), settings({ localEpochs: 15 }));
      const plain = evaluateLocal(tf, study, blobPrep, ls, result.weights, classData(90, classes.length, 8)).sums;
      expect(plain).not.toHaveProperty('auc');
      const sums = evaluateLocal(tf, { ...study, metrics: ['accuracy', 'auc'] }, blobPrep, ls, result.weights, classData(90, classes.length, 8)).sums;
      if (!('auc' in sums) || sums.auc === undefined) throw new Error('expected AUC counts');
      const curves = classes.length === 2 ? 1 : classes.length;
      expect(sums.auc.pos).toHaveLength(curves);
      for (let c = 0; c < curves; c++) {
        const total = (m: number[][]) => m[c]!.reduce((a, b) => a + b, 0);
        expect(total(sums.auc.pos) + total(sums.auc.neg)).toBe(90);
        expect(total(sums.auc.pos)).toBe(classes.length === 2 ? 45 : 30);
      }
      // Well separated blobs: near-perfect ranking.
      expect(aucFromCounts(sums.auc)).toBeGreaterThan(0.95);
    }
  });

  it('fails with E_TRAINING_FAILED instead of returning non-finite weights', async () => {
    const wild = linearData(200, 5);
    for (let i = 0; i < wild.x.length; i++) wild.x[i]! *= 50;
    await expect(
      trainLocal(tf, linearStudy, layers, zeros(linearStudy), wild, settings({ optimizer: 'sgd', lr: 10, localEpochs: 50 })),
    ).rejects.toMatchObject({ code: 'E_TRAINING_FAILED' });
  });

  it('leaves no tensors behind across rounds', async () => {
    let global = zeros(linearStudy);
    await trainLocal(tf, linearStudy, layers, global, train, settings({ localEpochs: 1 })); // warm-up
    const start = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      global = (await trainLocal(tf, linearStudy, layers, global, train, settings({ localEpochs: 1 }), 0.1)).weights;
      evaluateLocal(tf, linearStudy, linearPrep, layers, global, test);
    }
    expect(tf.memory().numTensors).toBe(start);
  });
});
