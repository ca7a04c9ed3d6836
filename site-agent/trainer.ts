// Local training and evaluation on the site's rows. A hand-written minibatch loop rather than
// model.fit: we control the seeded row order, can add the FedProx term, and keep every tensor's
// lifetime explicit so memory stays flat across hundreds of rounds.

import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { countInto, emptyAucCounts } from '../shared/auc.js';
import { classProbabilities } from '../shared/class-probabilities.js';
import { FedrxError } from '../shared/errors.js';
import type { SignedHead } from '../shared/ledger-head.js';
import type { DenseLayer } from '../shared/model-spec.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { addPrediction, emptySums } from '../shared/metrics.js';
import { classScore, regressionScore } from '../shared/conformal/scores.js';
import { addScore, CLASSIFICATION_LAYOUT, emptySketch, REGRESSION_LAYOUT } from '../shared/conformal/score-sketch.js';
import { decodeRegression } from '../shared/preprocess.js';
import type { EvalSums, GroupSums } from '../shared/wire.js';
import type { TrainingSettings } from '../shared/run-config.js';
import { groupingFeature, isRegression, outputDim, studyMetrics, type ClassificationTarget, type Study } from '../shared/study.js';
import { firstNonFinite, type Weights } from '../shared/tensors.js';
import type { Tf } from './backend.js';
import type { DataPart } from './local-data.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import { buildModel, disposeModel, getWeights, setWeights, type TfModel } from './tf-model.js';

export interface TrainResult {
  weights: Weights;
  /** Data loss (no proximal term) of the trained weights on the training rows. */
  trainLoss: number;
  numExamples: number;
  /** A regional agent's training (its hospitals' round): the regional coordinator's signed head after committing it, sent beside the update. */
  childHead?: SignedHead;
}

export interface EvalScore {
  loss: number;
  /** Sums that add up across sites into exact global metrics (shared/metrics.ts). */
  sums: EvalSums;
  numExamples: number;
  /** When asked for: the part's nonconformity scores counted over fixed bins (shared/conformal), never the scores. */
  sketch?: number[];
  /** With a study groupBy: the same sums per level of that feature present in the part. */
  groups?: GroupSums[];
}

/** Yield to the event loop this often so sockets (pings, ledger entries) are served while training. */
const BATCHES_PER_YIELD = 64;
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains from `globalWeights` on `train` and returns the new weights.
 * `proximalMu` > 0 adds FedProx's mu/2·‖w − w_global‖², pulling sites with odd data back toward
 * the global model; 0 is plain FedAvg local training. The study's `model.l2` λ adds λ/2·Σ kernel²
 * (weight decay; biases are not penalised).
 */
export async function trainLocal(
  tf: Tf,
  study: Study,
  layers: readonly DenseLayer[],
  globalWeights: Weights,
  train: DataPart,
  settings: TrainingSettings,
  proximalMu = 0,
): Promise<TrainResult> {
  if (train.n < 1) throw new FedrxError('E_CSV_TOO_FEW_ROWS', 'no training rows');
  if (!(proximalMu >= 0) || !Number.isFinite(proximalMu)) throw new FedrxError('E_BAD_REQUEST', 'proximalMu must be a finite number ≥ 0');
  const l2 = localL2(study);
  const model = buildModel(tf, layers);
  const anchors: Tensor[] = [];
  const optimizer = settings.optimizer === 'adam' ? tf.train.adam(settings.lr) : tf.train.sgd(settings.lr);
  try {
    setWeights(model, globalWeights);
    if (proximalMu > 0) for (const w of globalWeights) anchors.push(tf.tensor(new Float32Array(w.data), w.shape, 'float32'));
    const width = layers[0]!.inputs;
    const batchSize = Math.min(settings.batchSize, train.n);
    const rng = new Prng(deriveSeed('minibatch', settings.seed));
    const order = Array.from({ length: train.n }, (_, i) => i);
    let batches = 0;
    for (let epoch = 0; epoch < settings.localEpochs; epoch++) {
      rng.shuffle(order);
      for (let start = 0; start < train.n; start += batchSize) {
        const rows = order.slice(start, Math.min(start + batchSize, train.n));
        // Fresh arrays per batch: the cpu backend keeps a reference to what it is given.
        const bx = new Float32Array(rows.length * width);
        const by = new Float32Array(rows.length);
        rows.forEach((r, i) => {
          bx.set(train.x.subarray(r * width, (r + 1) * width), i * width);
          by[i] = train.y[r]!;
        });
        tf.tidy(() => {
          const xs = tf.tensor2d(bx, [rows.length, width]);
          const ys = tf.tensor1d(by);
          optimizer.minimize(
            () => {
              const out = model.net.apply(xs, { training: true }) as Tensor2D;
              let loss = dataLoss(tf, study, out, ys);
              if (l2 > 0) loss = loss.add(kernelPenalty(tf, model, l2));
              return proximalMu > 0 ? loss.add(proximalTerm(tf, model, anchors, proximalMu)) : loss;
            },
            false,
            [...model.variables],
          );
        });
        if (++batches % BATCHES_PER_YIELD === 0) await yieldToLoop();
      }
      await yieldToLoop();
    }
    const weights = getWeights(model);
    const bad = firstNonFinite(weights);
    if (bad !== null) {
      throw new FedrxError('E_TRAINING_FAILED', `training diverged: ${bad[0]}[${bad[1]}] is not finite (lower the learning rate?)`);
    }
    const { loss } = scorePart(model, study, null, train);
    if (!Number.isFinite(loss)) throw new FedrxError('E_TRAINING_FAILED', 'training loss is not finite');
    return { weights, trainLoss: loss, numExamples: train.n };
  } finally {
    optimizer.dispose();
    for (const a of anchors) a.dispose();
    disposeModel(model);
  }
}

/** Loss and metric of `weights` on `part` (the held-out rows, usually). */
export function evaluateLocal(
  tf: Tf,
  study: Study,
  prep: Preprocessing,
  layers: readonly DenseLayer[],
  weights: Weights,
  part: DataPart,
  withSketch = false,
): EvalScore {
  if (part.n < 1) throw new FedrxError('E_CSV_TOO_FEW_ROWS', 'no rows to evaluate on');
  const model = buildModel(tf, layers);
  try {
    setWeights(model, weights);
    const sketch = withSketch ? emptySketch(isRegression(study) ? REGRESSION_LAYOUT : CLASSIFICATION_LAYOUT) : null;
    const { loss, sums, groups } = scorePart(model, study, prep, part, sketch);
    return { loss, sums: sums!, numExamples: part.n, ...(sketch === null ? {} : { sketch }), ...(groups === undefined ? {} : { groups }) };
  } finally {
    disposeModel(model);
  }
}

/** Mean data loss over a batch: what training minimises and what evaluation reports. */
function dataLoss(tf: Tf, study: Study, out: Tensor2D, y: Tensor1D): Scalar {
  if (isRegression(study)) return tf.losses.meanSquaredError(y.reshape([-1, 1]), out) as Scalar;
  const k = outputDim(study);
  if (k === 1) return tf.losses.sigmoidCrossEntropy(y.reshape([-1, 1]), out) as Scalar;
  return tf.losses.softmaxCrossEntropy(tf.oneHot(y.toInt(), k), out) as Scalar;
}

/** The λ of local training: one number; a grid or 'auto' is chosen by a run, never by a site. */
function localL2(study: Study): number {
  const l2 = study.model.l2 ?? 0;
  if (typeof l2 !== 'number') {
    throw new FedrxError('E_BAD_REQUEST', `model.l2 of study ${study.name} is a grid or 'auto': local training needs one penalty`);
  }
  return l2;
}

/** λ/2·Σ kernel²: the same penalty as the exact fit's, on the kernels only. */
function kernelPenalty(tf: Tf, model: TfModel, l2: number): Scalar {
  let sum: Scalar = tf.scalar(0);
  model.variables.forEach((v, i) => {
    if (model.specs[i]!.name.endsWith('/kernel')) sum = sum.add(tf.sum(tf.square(v)));
  });
  return sum.mul(l2 / 2);
}

function proximalTerm(tf: Tf, model: TfModel, anchors: readonly Tensor[], mu: number): Scalar {
  let sum: Scalar = tf.scalar(0);
  model.variables.forEach((v, i) => {
    sum = sum.add(tf.sum(tf.squaredDifference(v, anchors[i]!)));
  });
  return sum.mul(mu / 2);
}

/**
 * One pass over `part` in batches: the mean loss (tf, same as training) and, given the run's
 * preprocessing, the metric sums in the target's own unit; given a sketch, each row's
 * nonconformity score counted into it (regression: |ẑ − z| in model space; classification: 1 − p̂(true)).
 */
function scorePart(
  model: TfModel,
  study: Study,
  prep: Preprocessing | null,
  part: DataPart,
  sketch: number[] | null = null,
  batch = 4096,
): { loss: number; sums: EvalSums | null; groups?: GroupSums[] } {
  const { tf } = model;
  const width = model.layers[0]!.inputs;
  const k = outputDim(study);
  let lossSum = 0;
  let reg = emptySums();
  let correct = 0;
  const classes = isRegression(study) ? 0 : (study.target as ClassificationTarget).classes.length;
  const auc = prep !== null && studyMetrics(study).includes('auc') ? emptyAucCounts(classes) : undefined;
  const by = prep === null || part.group === undefined ? null : groupingFeature(study);
  const perLevel = by === null ? null : by.levels.map(() => ({ reg: emptySums(), n: 0, correct: 0 }));
  for (let start = 0; start < part.n; start += batch) {
    const rows = Math.min(batch, part.n - start);
    const y = part.y.subarray(start, start + rows);
    const [out, loss] = tf.tidy(() => {
      const xs = tf.tensor2d(part.x.subarray(start * width, (start + rows) * width), [rows, width]);
      const o = model.net.predict(xs) as Tensor2D;
      return [o, dataLoss(tf, study, o, tf.tensor1d(y))];
    });
    // Losses are batch means: weight by rows so the total is the mean over every row.
    lossSum += loss.dataSync()[0]! * rows;
    const o = out.dataSync();
    out.dispose();
    loss.dispose();
    if (prep === null) continue;
    for (let i = 0; i < rows; i++) {
      const level = perLevel === null ? undefined : perLevel[part.group![start + i]!]!;
      if (isRegression(study)) {
        const predicted = decodeRegression(study.target, prep, o[i]!);
        reg = addPrediction(reg, predicted, part.actual[start + i]!);
        if (level !== undefined) level.reg = addPrediction(level.reg, predicted, part.actual[start + i]!);
        if (sketch !== null) addScore(sketch, REGRESSION_LAYOUT, regressionScore(o[i]!, y[i]!));
      } else {
        const right = predictedClass(o, i, k) === y[i];
        if (right) correct++;
        if (level !== undefined) {
          level.n++;
          if (right) level.correct++;
        }
        if (auc !== undefined || sketch !== null) {
          const p = classProbabilities(o, classes, i);
          if (auc !== undefined) countInto(auc, p, y[i]!);
          if (sketch !== null) addScore(sketch, CLASSIFICATION_LAYOUT, classScore(p, y[i]!));
        }
      }
    }
  }
  const sums = prep === null ? null : isRegression(study) ? reg : { n: part.n, correct, ...(auc === undefined ? {} : { auc }) };
  // Every level present in the part, however small: the coordinator pools them and flags small groups.
  const groups =
    by === null || perLevel === null
      ? undefined
      : perLevel.flatMap((g, l) => {
          const s: EvalSums = isRegression(study) ? g.reg : { n: g.n, correct: g.correct };
          return s.n === 0 ? [] : [{ level: by.levels[l]!, sums: s }];
        });
  return { loss: lossSum / part.n, sums, ...(groups === undefined ? {} : { groups }) };
}

function predictedClass(out: ArrayLike<number>, i: number, k: number): number {
  if (k === 1) return out[i]! > 0 ? 1 : 0;
  let best = 0;
  for (let c = 1; c < k; c++) if (out[i * k + c]! > out[i * k + best]!) best = c;
  return best;
}
