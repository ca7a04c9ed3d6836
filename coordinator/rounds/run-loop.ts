// The round loop of one run. Round 0: the sites' statistics fix the preprocessing. Then each round
// is a sequence of phases: training (select the connected sites, send the global model, fold their
// updates into the strategy's aggregator as they arrive) → aggregate → evaluation at the sites →
// commit the model, the round, the ledger entry and the run's state in one transaction →
// broadcast the entry. A run starts at any committed round: after a crash it goes on from the
// last one, and the round that was in flight is redone.

import { describeCompression } from '../../shared/compression/settings.js';
import { simulationMark } from '../../shared/simulation.js';
import { hashConfig, type LedgerEntry } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import type { TaskDp } from '../../shared/privacy/dp-settings.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { statsReportBytes, updateFrameBytes } from '../gateway/frame-caps.js';
import type { RunRow, SiteOutcome } from '../store/store.js';
import { createStrategy, siteTaskOptions } from '../strategies/registry.js';
import type { Aggregator, RobustReport, Strategy } from '../strategies/types.js';
import { privateRound } from '../privacy/private-round.js';
import { observeRound } from './best-round.js';
import { checkInterrupted, childrenOf, connectedSet, failRound, participantsOf, runPhase, waitForSites, type Engine } from './engine.js';
import { evaluate } from './evaluate.js';
import { exactRound } from './exact-round.js';
import { TrainingPhase } from '../phases/training-phase.js';
import { phaseFailure } from './round-failure.js';
import { formatRoundLine } from './round-log.js';
import { roundMetrics } from './round-metrics.js';
import { conformalMetrics, roundConformal } from './round-conformal.js';
import { resumeState, type RunState } from './run-state.js';
import { secureUpdates, type SecureUpdates } from './secure-round.js';
import { statisticsRound } from './statistics-round.js';

/** Runs `run` to its end from wherever it stands; the run's row says how it ended. */
export async function executeRun(engine: Engine, run: RunRow): Promise<void> {
  const { config } = run;
  const configHash = hashConfig(config);
  const resumed = resumeState(engine.store, run);
  engine.store.markRunning(run.id);
  if (resumed === null) {
    engine.log(`run ${run.id} started: ${config.strategy}, ${config.rounds} rounds, min ${config.minSites} sites, study ${config.study.name}${config.compression === undefined ? '' : `, updates as ${describeCompression(config.compression)}`}`);
  } else {
    engine.log(`run ${run.id} resumed after round ${resumed.round} of ${config.rounds}: round ${resumed.round + 1} is redone from model ${resumed.modelHash.slice(0, 12)}`);
  }
  const zero = resumed === null ? await statisticsRound(engine, run, configHash) : null;
  if (typeof zero === 'string') return failed(engine, run, zero);
  const state = resumed ?? zero!.state;
  const strategy = config.strategy === 'exact' ? null : createStrategy(config.strategy, config.strategyOptions, state.strategy);
  const task: TaskConfig = {
    study: config.study,
    preprocessing: state.prep,
    training: config.training,
    ...siteTaskOptions(config.strategy, config.strategyOptions),
    ...(config.compression === undefined ? {} : { compression: config.compression }),
  };
  if (strategy === null) {
    const reason = state.round === 0 ? await exactRound(engine, run, state, task, configHash) : null;
    return reason === null ? completed(engine, run, null, 1) : failed(engine, run, reason);
  }
  engine.link.expectRun({ statsReportBytes: statsReportBytes(config.study), updateFrameBytes: updateFrameBytes(state.weights) });
  let current: RunState = state;
  while (current.round < config.rounds) {
    // A cancel asked for before this round (also before a restart) ends the run here, nothing started.
    checkInterrupted(engine, run.id);
    const next = await trainingRound(engine, run, strategy, current, task, configHash);
    if (typeof next === 'string') return failed(engine, run, next);
    current = next.state;
    if (next.stop !== null) return completed(engine, run, `stopped early after round ${current.round} of ${config.rounds}: ${next.stop}`, current.progress.best.bestRound);
  }
  completed(engine, run, null, current.progress.best.bestRound);
}

/** One training round, committed; or why it failed (recorded with the run's end). The entry's parent is `from`'s model. */
export async function trainingRound(
  engine: Engine,
  run: RunRow,
  strategy: Strategy,
  from: RunState,
  task: TaskConfig,
  configHash: string,
): Promise<{ state: RunState; stop: string | null; entry: LedgerEntry } | string> {
  const { config } = run;
  const round = from.round + 1;
  const startedAt = new Date().toISOString();
  const fail = (reason: string, outcomes: SiteOutcome[]): string => failRound(engine, run.id, round, startedAt, reason, outcomes);
  const absent = await waitForSites(engine, run.id, config, round);
  if (absent !== null) return fail(absent, []);

  const selected = connectedSet(engine);
  const ctx = { runId: run.id, round, globalWeights: from.weights, globalHash: from.modelHash, selected };
  const dp = privateRound(engine.store, config, round, selected.size);
  const aggregator = dp === null ? strategy.beginRound(ctx) : dp.wrap(ctx, strategy.beginRound(ctx));
  const updates = config.secureAggregation === undefined ? await plainUpdates(engine, run, round, from, task, aggregator, selected, dp?.task) : await secureUpdates(engine, run, round, from, task, aggregator, selected, dp?.task);
  const { outcomes } = updates;
  const result = updates.failure === null ? aggregator.finalize() : null;
  if (result === null) return fail(`round ${round}: ${updates.failure ?? 'no update was aggregated'}`, outcomes);
  const weights = result.weights;
  const modelHash = hashWeights(weights);
  engine.onStep({ step: 'aggregated', runId: run.id, round });

  const evals = await evaluate(engine, run, round, { weights, modelHash }, task, outcomes);
  const conformal = roundConformal(from.inputs, config.coverage, evals);
  const metrics = { ...roundMetrics(from.inputs, outcomes, evals), ...conformalMetrics(conformal) };
  // Decided before the commit, so the entry itself records the best round so far and an early stop.
  const verdict = observeRound(from.progress.best, round, metrics.valLoss, config.patience ?? 0);
  const progress = { ...from.progress, best: verdict.state };
  metrics.bestRound = verdict.state.bestRound!;
  if (verdict.stop !== null) metrics.stoppedEarly = 1;
  const snapshot = strategy.snapshot();
  const participants = participantsOf(outcomes);
  const entry = engine.store.commitRound({
    runId: run.id,
    round,
    startedAt,
    modelHash,
    weights,
    metrics,
    sites: outcomes,
    entry: {
      parentModelHash: from.modelHash,
      participants,
      configHash,
      ...(conformal === undefined ? {} : { conformal }),
      ...(updates.secure === null ? {} : { secure: updates.secure }),
      ...(result.robust === undefined ? {} : { robust: roundedReport(result.robust) }),
      ...(dp === null ? {} : { privacy: dp.entryPrivacy(run.id, round, participants) }),
      ...simulationMark(config),
      ...childrenOf(outcomes),
    },
    state: { progress: JSON.stringify(progress), strategy: snapshot },
    bestRound: verdict.state.bestRound!,
  });
  engine.onStep({ step: 'committed', runId: run.id, round });
  engine.link.broadcastLedger([entry]);
  engine.onRound({ runId: run.id, round, rounds: config.rounds, entry, outcomes });
  engine.log(formatRoundLine(run.id, round, config.relay === undefined ? config.rounds : null, entry, outcomes.length, verdict.stop));
  return { state: { ...from, round, weights, modelHash, progress, strategy: snapshot }, stop: verdict.stop, entry };
}

/** The round's updates in the clear: each one checked and folded into the aggregator as it arrives. */
async function plainUpdates(engine: Engine, run: RunRow, round: number, from: RunState, task: TaskConfig, aggregator: Aggregator, selected: ReadonlySet<string>, dp?: TaskDp): Promise<SecureUpdates> {
  const { config } = run;
  const training = new TrainingPhase(run.id, round, from, task, aggregator, selected, config.roundTimeoutSec * 1000, dp);
  await runPhase(engine, training);
  const { outcomes, accepted } = training.results();
  const failure = accepted < config.minSites ? phaseFailure('updates', accepted, config.minSites, outcomes, config.roundTimeoutSec) : null;
  return { outcomes, secure: null, failure };
}

/** Factors and shares to 6 significant digits: what the ledger keeps of them. */
function roundedReport(r: RobustReport): RobustReport {
  const six = (x: number): number => Number(x.toPrecision(6));
  return { ...r, clipped: r.clipped.map((c) => ({ ...c, factor: six(c.factor) })), trimmed: r.trimmed.map((t) => ({ ...t, share: six(t.share) })) };
}

export function completed(engine: Engine, run: RunRow, stopReason: string | null, bestRound: number | null): void {
  engine.store.endRun(run.id, 'completed', null, stopReason);
  engine.log(`run ${run.id} ${stopReason ?? 'completed'}; serving round ${bestRound ?? 0}`);
}

function failed(engine: Engine, run: RunRow, reason: string): void {
  engine.log(`run ${run.id} failed: ${reason}`);
}
