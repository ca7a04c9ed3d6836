// One model output made into a clinician's answer: the prediction in the target's unit with its
// calibrated interval, or the most probable class with its calibrated prediction set.

import { classProbabilities, mostProbable } from '../shared/class-probabilities.js';
import type { ConformalRecord } from '../shared/conformal/federated-quantile.js';
import { modelInterval, predictionSet } from '../shared/conformal/scores.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { decodeRegression } from '../shared/preprocess.js';
import { isRegression, type ClassificationTarget, type Study } from '../shared/study.js';
import type { Score } from './predictor.js';

/**
 * Regression: the quantile q was taken over |ẑ − z| in model space, so the interval is [ẑ − q, ẑ + q]
 * mapped back through the target's monotone inverse transform (asymmetric in the unit for a sqrt
 * or log target), then clipped to the study's target range, which every site's rows lie in, so the
 * clipping loses no coverage; an unbounded q (too few calibration rows) gives that whole range.
 * Classification: the classes with 1 − p̂ ≤ q; all of them when q is unbounded.
 */
export function calibratedScore(study: Study, prep: Preprocessing, conformal: ConformalRecord | undefined, out: ArrayLike<number>): Score {
  const q = conformal === undefined ? undefined : (conformal.quantile ?? Infinity);
  if (isRegression(study)) {
    const t = study.target;
    const z = out[0]!;
    const unit = t.unit === undefined ? {} : { unit: t.unit };
    if (q === undefined) return { prediction: decodeRegression(t, prep, z), ...unit };
    const [lo, hi] = modelInterval(z, q);
    const clip = (v: number): number => Math.min(t.max, Math.max(t.min, v));
    const interval = { lower: clip(decodeRegression(t, prep, lo)), upper: clip(decodeRegression(t, prep, hi)), coverage: conformal!.coverage };
    return { prediction: decodeRegression(t, prep, z), ...unit, interval };
  }
  const classes = (study.target as ClassificationTarget).classes;
  const probs = classProbabilities(out, classes.length);
  const answer = { prediction: classes[mostProbable(probs)]!, probabilities: Object.fromEntries(classes.map((c, i) => [c, probs[i]!])) };
  return q === undefined ? answer : { ...answer, set: predictionSet(classes, probs, q), coverage: conformal!.coverage };
}
