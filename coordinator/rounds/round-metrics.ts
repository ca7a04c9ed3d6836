// A round's figures from its sites' outcomes and evaluations: example-weighted losses, and the
// study's metrics from the summed site sums (exact, as if the rows were pooled).

import { studyMetrics, type Study } from '../../shared/study.js';
import type { SiteOutcome } from '../store/store.js';
import { evalMetrics, headlineMetric } from './eval-metrics.js';
import { groupMetrics } from './group-metrics.js';
import type { EvalReport } from '../phases/evaluation-phase.js';

export function roundMetrics(study: Study, outcomes: SiteOutcome[], evals: Map<string, EvalReport>): Record<string, number> {
  let trainN = 0;
  let lossN = 0;
  let trainLoss = 0;
  let updateBytes = 0;
  for (const o of outcomes) {
    if (o.status !== 'accepted') continue;
    trainN += o.numExamples!;
    updateBytes += o.updateBytes ?? 0;
    // An exact fit by CG or Newton reports no per-site training loss.
    if (o.trainLoss !== undefined) {
      lossN += o.numExamples!;
      trainLoss += o.numExamples! * o.trainLoss;
    }
  }
  let evalN = 0;
  let loss = 0;
  for (const e of evals.values()) {
    evalN += e.numExamples;
    loss += e.numExamples * e.loss;
  }
  const m: Record<string, number> = {
    sites: outcomes.filter((o) => o.status === 'accepted').length,
    trainExamples: trainN,
    evalSites: evals.size,
    evalExamples: evalN,
  };
  if (lossN > 0) m.trainLoss = trainLoss / lossN;
  // The bytes of the accepted updates' frames as the coordinator received them (plain and compressed updates).
  if (updateBytes > 0) m.updateBytes = updateBytes;
  if (evalN > 0) {
    m.evalLoss = loss / evalN;
    const named = evalMetrics(study, [...evals.values()].map((e) => e.sums));
    Object.assign(m, named, groupMetrics(study, evals));
    m.evalMetric = named[studyMetrics(study)[0]!]!;
  }
  // The validation parts: what chooses the best round (never the held-out figures above).
  const val = [...evals.values()].flatMap((e) => (e.validation === undefined ? [] : [e.validation]));
  const valN = val.reduce((n, v) => n + v.numExamples, 0);
  if (valN > 0) {
    m.valExamples = valN;
    m.valLoss = val.reduce((s, v) => s + v.numExamples * v.loss, 0) / valN;
    const metric = headlineMetric(study, val.map((v) => v.sums));
    if (metric !== undefined) m.valMetric = metric;
  }
  return m;
}
