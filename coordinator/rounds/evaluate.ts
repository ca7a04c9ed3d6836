// The evaluation phase of a round, run: the sites that were asked to train (and are still
// connected) score the new model; each site's figures are written into its outcome.

import type { TaskConfig } from '../../shared/run-config.js';
import type { Weights } from '../../shared/tensors.js';
import type { RunRow, SiteOutcome } from '../store/store.js';
import { runPhase, type Engine } from './engine.js';
import { headlineMetric } from './eval-metrics.js';
import { EvaluationPhase, type EvalReport } from './phases/evaluation-phase.js';

export async function evaluate(engine: Engine, run: RunRow, round: number, model: { weights: Weights; modelHash: string }, task: TaskConfig, outcomes: SiteOutcome[]): Promise<Map<string, EvalReport>> {
  const asked = new Set(outcomes.map((o) => o.siteId).filter((s) => engine.link.isConnected(s)));
  const phase = new EvaluationPhase(run.id, round, model, task, asked, run.config.roundTimeoutSec * 1000);
  await runPhase(engine, phase);
  const evals = phase.results();
  for (const o of outcomes) {
    const e = evals.get(o.siteId);
    if (e !== undefined) Object.assign(o, { evalExamples: e.numExamples, evalLoss: e.loss, evalMetric: headlineMetric(run.config.study, [e.sums]) });
  }
  return evals;
}
