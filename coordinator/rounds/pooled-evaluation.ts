// A relay run's evaluation answer: the sites' evaluations pooled into what one site holding all
// their rows would report, so a parent combining regions gets what combining every hospital gives
// (round-metrics.ts, eval-metrics.ts, group-metrics.ts): losses example-weighted, sums, AUC counts,
// per-level sums and calibration counts added. Pure.

import { aucCountsFit, mergeAucCounts, type AucCounts } from '../../shared/auc.js';
import { emptySums, mergeSums, type RegressionSums } from '../../shared/metrics.js';
import type { RelayEvaluation } from '../../shared/relay-wire.js';
import { groupingFeature, isRegression, type ClassificationTarget, type Study } from '../../shared/study.js';
import type { CalibrationSketch, EvalSums, GroupSums } from '../../shared/wire.js';
import type { EvalReport } from '../phases/evaluation-phase.js';

type Part = { numExamples: number; loss: number; sums: EvalSums };

export function pooledEvaluation(study: Study, evals: readonly EvalReport[]): RelayEvaluation {
  const out: RelayEvaluation = { ...pooledPart(study, evals), sites: evals.length };
  const validation = evals.flatMap((e) => (e.validation === undefined ? [] : [e.validation]));
  if (validation.length > 0) out.validation = pooledPart(study, validation);
  const groups = pooledGroups(study, evals);
  if (groups !== undefined) out.groups = groups;
  const calibration = pooledSketch(evals.flatMap((e) => (e.calibration === undefined ? [] : [e.calibration])));
  if (calibration !== undefined) out.calibration = calibration;
  return out;
}

/** Rows, example-weighted loss and summed sums of some parts (a site's held-out or validation rows). */
function pooledPart(study: Study, parts: readonly Part[]): Part {
  const numExamples = parts.reduce((n, p) => n + p.numExamples, 0);
  const loss = numExamples === 0 ? 0 : parts.reduce((s, p) => s + p.numExamples * p.loss, 0) / numExamples;
  return { numExamples, loss, sums: pooledSums(study, parts.map((p) => p.sums)) };
}

/** Sums of the study's kind added; AUC counts only when every site with rows sent counts that fit (else no AUC, as eval-metrics.ts). */
export function pooledSums(study: Study, sums: readonly EvalSums[]): EvalSums {
  if (isRegression(study)) return sums.reduce<RegressionSums>((a, s) => ('absErr' in s ? mergeSums(a, s) : a), emptySums());
  const classes = (study.target as ClassificationTarget).classes.length;
  let n = 0;
  let correct = 0;
  let auc: AucCounts | null | undefined;
  for (const s of sums) {
    if (!('correct' in s)) continue;
    n += s.n;
    correct += s.correct;
    if (s.n === 0) continue;
    if (s.auc === undefined || !aucCountsFit(s.auc, classes)) auc = null;
    else if (auc !== null) auc = auc === undefined ? s.auc : mergeAucCounts(auc, s.auc);
  }
  return auc === undefined || auc === null ? { n, correct } : { n, correct, auc };
}

/** Per level of the study's groupBy, the sites' sums added; only when every site sent its levels (they must add up to the rows). */
function pooledGroups(study: Study, evals: readonly EvalReport[]): GroupSums[] | undefined {
  const by = groupingFeature(study);
  if (by === null || evals.length === 0 || evals.some((e) => e.groups === undefined)) return undefined;
  const out: GroupSums[] = [];
  for (const level of by.levels) {
    const sums = evals.flatMap((e) => e.groups!.filter((g) => g.level === level).map((g) => g.sums));
    if (sums.length > 0) out.push({ level, sums: pooledSums(study, sums) });
  }
  return out;
}

/** Calibration counts added bin by bin (the evaluation phase checked every sketch has the task's length). */
function pooledSketch(sketches: readonly CalibrationSketch[]): CalibrationSketch | undefined {
  if (sketches.length === 0) return undefined;
  const counts = new Array<number>(sketches[0]!.counts.length).fill(0);
  for (const s of sketches) s.counts.forEach((c, i) => (counts[i] = counts[i]! + c));
  // The parent's rank counts each site that calibrated, as it would had they answered it directly.
  const sites = sketches.filter((s) => s.numExamples > 0).reduce((n, s) => n + (s.sites ?? 1), 0);
  return { numExamples: sketches.reduce((n, s) => n + s.numExamples, 0), counts, ...(sites === 0 ? {} : { sites }) };
}
