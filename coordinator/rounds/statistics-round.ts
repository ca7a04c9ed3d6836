// Round 0 of every run: the connected sites' statistics fix the preprocessing and the input list;
// the entry records them (preprocessingHash) with the initial model, which round 1 starts from.

import { simulationMark } from '../../shared/simulation.js';
import { isFedrxError } from '../../shared/errors.js';
import { hashPreprocessing, hashStats, mergeStats, type FeatureStats } from '../../shared/feature-stats.js';
import { runPreprocessing } from '../../shared/input-list.js';
import { hashWeights } from '../../shared/model-hash.js';
import { initialWeights } from '../../shared/model-init.js';
import { inputDim, outputDim } from '../../shared/study.js';
import { statsReportBytes, updateFrameBytes } from '../gateway/frame-caps.js';
import type { RunRow, SiteOutcome } from '../store/store.js';
import { connectedSet, failRound, runPhase, waitForSites, type Engine } from './engine.js';
import { StatisticsPhase } from '../phases/statistics-phase.js';
import { phaseFailure } from './round-failure.js';
import { initialProgress, type RunState } from './run-state.js';

/** Round 0 committed: the run's state, and the accepted sites' statistics merged (what a relay run answers). */
export interface StatisticsOutcome {
  state: RunState;
  stats: FeatureStats;
  sites: number;
}

/** The run's state after round 0, or why round 0 failed (the run is then marked failed). */
export async function statisticsRound(engine: Engine, run: RunRow, configHash: string): Promise<StatisticsOutcome | string> {
  const { config } = run;
  const study = config.study;
  const startedAt = new Date().toISOString();
  const fail = (reason: string, outcomes: SiteOutcome[]): string => failRound(engine, run.id, 0, startedAt, reason, outcomes);
  const absent = await waitForSites(engine, run.id, config, 0);
  if (absent !== null) return fail(absent, []);
  engine.link.expectRun({ statsReportBytes: statsReportBytes(study) });
  const phase = new StatisticsPhase(run.id, study, connectedSet(engine), config.roundTimeoutSec * 1000);
  await runPhase(engine, phase);
  const { reports, outcomes } = phase.results();
  if (reports.length < config.minSites) {
    return fail(`statistics: ${phaseFailure('statistics reports', reports.length, config.minSites, outcomes, config.roundTimeoutSec)}`, outcomes);
  }
  let fixed: ReturnType<typeof runPreprocessing>;
  try {
    fixed = runPreprocessing(study, reports);
  } catch (e) {
    if (!isFedrxError(e)) throw e;
    return fail(`statistics: ${e.code}: ${e.message}`, outcomes);
  }
  // `inputs`: the study with any feature groups expanded to the run's fixed input list.
  const { prep, study: inputs } = fixed;
  const weights = initialWeights(study.model, inputDim(inputs), outputDim(inputs), config.training.seed);
  const modelHash = hashWeights(weights);
  engine.link.expectRun({ statsReportBytes: statsReportBytes(study), updateFrameBytes: updateFrameBytes(weights) });
  const progress = initialProgress();
  const entry = engine.store.commitRound({
    runId: run.id,
    round: 0,
    startedAt,
    modelHash,
    weights,
    metrics: { sites: reports.length, trainExamples: prep.rows },
    sites: outcomes,
    entry: {
      parentModelHash: null,
      participants: reports.map((r) => ({ siteId: r.siteId, numExamples: r.stats.rows, updateHash: hashStats(r.stats), signature: r.signature })),
      configHash,
      preprocessingHash: hashPreprocessing(prep),
      ...simulationMark(run.config),
    },
    preprocessing: prep,
    // A new strategy has no state yet; the run's progress starts empty.
    state: { progress: JSON.stringify(progress), strategy: null },
    bestRound: null,
  });
  engine.onStep({ step: 'committed', runId: run.id, round: 0 });
  engine.link.broadcastLedger([entry]);
  const widthNote = prep.inputs === undefined ? '' : `, ${inputDim(inputs)} inputs (${prep.inputs.dropped.length} group columns left out)`;
  engine.log(`run ${run.id} round 0: statistics of ${prep.rows} rows from ${reports.length} sites${widthNote}, preprocessing ${entry.preprocessingHash!.slice(0, 12)}`);
  const state: RunState = { round: 0, weights, modelHash, prep, inputs, progress, strategy: null };
  return { state, stats: mergeStats(study, reports.map((r) => r.stats)), sites: reports.length };
}
