// An exact fit as round 1 of its run: statistics or products from the sites (exact/exact-solve.ts),
// the solve, evaluation at the sites, and the commit, as for any round.

import { simulationMark } from '../../shared/simulation.js';
import { isSearch } from '../../shared/exact/penalty.js';
import { exactMode } from '../../shared/exact/crossover.js';
import { hashWeights } from '../../shared/model-hash.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { DEFAULT_FOLDS } from '../strategies/exact.js';
import { inputDim, isRegression } from '../../shared/study.js';
import { maxExactFrameBytes, statsReportBytes } from '../gateway/frame-caps.js';
import type { RunRow, SiteOutcome } from '../store/store.js';
import { connectedSet, failRound, participantsOf, runPhase, waitForSites, type Engine } from './engine.js';

import { penaltyMetrics, ridgeWeights } from './exact/exact-result.js';
import { solveExact, type ExactIo } from './exact/exact-solve.js';
import { evaluate } from './evaluate.js';
import { formatRoundLine } from './round-log.js';
import { roundMetrics } from './round-metrics.js';
import { conformalMetrics, roundConformal } from './round-conformal.js';
import type { RunState } from './run-state.js';

/** Null when the fit was committed, else why it failed (the run is then marked failed). */
export async function exactRound(engine: Engine, run: RunRow, state: RunState, task: TaskConfig, configHash: string): Promise<string | null> {
  const { config } = run;
  const study = state.inputs;
  const startedAt = new Date().toISOString();
  const fail = (reason: string, outcomes: SiteOutcome[]): string => {
    return failRound(engine, run.id, 1, startedAt, reason, outcomes);
  };
  const absent = await waitForSites(engine, run.id, config, 1);
  if (absent !== null) return fail(absent, []);
  const width = inputDim(study);
  const mode = config.strategyOptions.exactAlgorithm ?? exactMode(width, task.preprocessing.rows);
  const folds = isSearch(study.model.l2) ? (config.strategyOptions.folds ?? DEFAULT_FOLDS) : 1;
  // The fit's float64 frames are larger than an update of the model: let them through, no larger.
  engine.link.expectRun({ statsReportBytes: statsReportBytes(task.study), updateFrameBytes: maxExactFrameBytes(width, task.preprocessing.rows, folds) });
  const solveStarted = performance.now();
  const io: ExactIo = { runPhase: (phase) => runPhase(engine, phase), log: (line) => engine.log(`run ${run.id} exact fit: ${line}`) };
  const solved = await solveExact(io, run, study, task, state.modelHash, connectedSet(engine));
  if ('reason' in solved) return fail(solved.reason, solved.outcomes);
  const { fit, selection, outcomes } = solved;
  const accepted = outcomes.filter((o) => o.status === 'accepted');
  const rows = accepted.reduce((s, o) => s + o.numExamples!, 0);
  engine.log(
    `run ${run.id} exact fit (${isRegression(study) ? mode : 'newton'}) of ${width} features on ${rows} rows from ${accepted.length} sites in ${Math.round(performance.now() - solveStarted)} ms: l2 ${fit.lambda.toPrecision(4)}${selection === null ? '' : ` chosen from ${selection.grid.length} by ${selection.folds}-fold validation`}`,
  );
  const weights = ridgeWeights(fit);
  const modelHash = hashWeights(weights);
  engine.onStep({ step: 'aggregated', runId: run.id, round: 1 });
  const evals = await evaluate(engine, run, 1, { weights, modelHash }, task, outcomes);
  const conformal = roundConformal(study, run.config.coverage, evals);
  const entry = engine.store.commitRound({
    runId: run.id,
    round: 1,
    startedAt,
    modelHash,
    weights,
    // One round: it is the run's best.
    metrics: { ...roundMetrics(study, outcomes, evals), ...conformalMetrics(conformal), ...penaltyMetrics(fit, selection), bestRound: 1 },
    sites: outcomes,
    entry: {
      parentModelHash: state.modelHash,
      participants: participantsOf(outcomes),
      configHash,
      ...(conformal === undefined ? {} : { conformal }),
      ...simulationMark(run.config),
    },
    state: { progress: JSON.stringify({ ...state.progress, best: { bestRound: 1, bestLoss: null, sinceBest: 0 } }), strategy: null },
    bestRound: 1,
  });
  engine.onStep({ step: 'committed', runId: run.id, round: 1 });
  engine.link.broadcastLedger([entry]);
  engine.onRound({ runId: run.id, round: 1, rounds: 1, entry, outcomes });
  engine.log(formatRoundLine(run.id, 1, 1, entry, outcomes.length, null));
  return null;
}
