// A relay run: a regional coordinator's run driven step by step by its parent (docs/scale.md).
// It runs no rounds by itself: it takes the steps its parent posts (relay-inbox.ts) one at a time
// and runs each with the ordinary round code: statistics is round 0 (statistics-round.ts), train is
// one training round from the parent's model and task (run-loop.ts trainingRound), evaluate is the evaluation phase over the connected sites, pooled. It completes on
// an end step or after idleSec without a step. A restarted coordinator waits for steps again: a
// step needs nothing of the run but its committed rounds.

import { FedrxError, isFedrxError } from '../../shared/errors.js';
import { hashConfig } from '../../shared/ledger.js';
import type { RelayEvaluation, RelayStatistics } from '../../shared/relay-wire.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';
import { statsReportBytes, updateFrameBytes } from '../gateway/frame-caps.js';
import { EvaluationPhase } from '../phases/evaluation-phase.js';
import { phaseOutcomes } from '../phases/phase.js';
import type { RunRow } from '../store/store.js';
import { createStrategy } from '../strategies/registry.js';
import type { Strategy } from '../strategies/types.js';
import { checkInterrupted, connectedSet, runPhase, RunInterrupted, waitForSites, type Engine } from './engine.js';
import { pooledEvaluation } from './pooled-evaluation.js';
import type { RelayInbox, RelayResults, RelayStep } from './relay-inbox.js';
import type { RelayTask } from './relay-task.js';
import { phaseFailure } from './round-failure.js';
import { completed, trainingRound } from './run-loop.js';
import { initialProgress, type RunProgress } from './run-state.js';
import { statisticsRound } from './statistics-round.js';

/** A step that could not run: the run goes on, the caller gets the error. */
class StepRefused extends Error {
  constructor(readonly error: FedrxError) {
    super(error.message);
  }
}

/** A step whose round failed: the run has been marked failed with `recorded` (E_ROUND_FAILED: …). */
class StepFailed extends Error {
  constructor(readonly recorded: string) {
    super(recorded);
  }
}

interface RelayState {
  readonly strategy: Strategy;
  progress: RunProgress;
  configHash: string;
}

/** Runs the relay run `run` until an end step, idleness, a failed step or a cancel; its row says how it ended. */
export async function relayRun(engine: Engine, run: RunRow, inbox: RelayInbox): Promise<void> {
  const { config } = run;
  const relay = config.relay!;
  const saved = engine.store.savedState(run.id);
  engine.store.markRunning(run.id);
  inbox.reopen(run.id);
  engine.log(`run ${run.id} ${saved === null ? 'started' : `resumed after round ${saved.round}`}: relay for parent run ${relay.parentRunId} (${config.strategy}, min ${config.minSites} sites), waiting for its steps`);
  try {
    // Refused when the run was made (run-config.ts); a config from elsewhere is refused here, its steps with it.
    if (config.strategy === 'exact') throw new FedrxError('E_RELAY_SETTINGS', 'a relay run cannot fit exactly');
    const state: RelayState = { strategy: createStrategy(config.strategy, config.strategyOptions, saved?.strategy ?? null), progress: initialProgress(), configHash: hashConfig(config) };
    for (;;) {
      const pending = await inbox.next(run.id, relay.idleSec * 1000, () => engine.interrupted(run.id));
      checkInterrupted(engine, run.id);
      if (pending === null) {
        completed(engine, run, `relay idle for ${relay.idleSec} s`, engine.store.latestModelHash(run.id)?.round ?? null);
        break;
      }
      try {
        const result = await runStep(engine, run, state, pending.step);
        if (pending.step.kind === 'end') completed(engine, run, null, engine.store.latestModelHash(run.id)?.round ?? null);
        pending.resolve(result);
        if (pending.step.kind === 'end') break;
      } catch (e) {
        if (e instanceof StepRefused) {
          engine.log(`run ${run.id}: relay ${pending.step.kind} step refused: ${e.error.code}: ${e.error.message}`);
          pending.reject(e.error);
          continue;
        }
        pending.reject(stepError(engine, run.id, e));
        if (e instanceof StepFailed) {
          engine.log(`run ${run.id} failed: ${e.recorded}`);
          break;
        }
        throw e;
      }
    }
  } catch (e) {
    inbox.close(run.id, stepError(engine, run.id, e));
    throw e;
  }
  inbox.close(run.id, new FedrxError('E_RUN_FINISHED', `run ${run.id} has ended (${engine.store.getRun(run.id)?.status ?? 'ended'}): it takes no more steps`));
}

/** What the caller of a step that ended the run, or was cut short, is told. */
function stepError(engine: Engine, runId: string, e: unknown): FedrxError {
  if (e instanceof StepFailed) return new FedrxError('E_ROUND_FAILED', e.recorded.replace(/^E_ROUND_FAILED: /, ''));
  if (e instanceof RunInterrupted) {
    return engine.store.isCancelRequested(runId)
      ? new FedrxError('E_RUN_FINISHED', `run ${runId} was cancelled: nothing of the step in flight was committed`)
      : new FedrxError('E_BUSY', 'the coordinator is stopping: nothing of the step in flight was committed; post it again once it has restarted');
  }
  return isFedrxError(e) ? e : new FedrxError('E_INTERNAL', `the relay step failed: ${(e as Error).message}`);
}

async function runStep(engine: Engine, run: RunRow, state: RelayState, step: RelayStep): Promise<RelayResults[RelayStep['kind']]> {
  switch (step.kind) {
    case 'statistics':
      return statisticsStep(engine, run, state);
    case 'train':
      return trainStep(engine, run, state, step.task);
    case 'evaluate':
      return evaluateStep(engine, run, step.task);
    case 'end':
      return null;
  }
}

/** A round is run once: the parent keeps the region's answer for a redone task. */
function refuseCommitted(engine: Engine, run: RunRow, round: number): void {
  const index = engine.store.roundLedgerIndex(run.id, round);
  if (index !== null) throw new StepRefused(new FedrxError('E_DUPLICATE_UPDATE', `round ${round} of run ${run.id} is already committed (ledger entry ${index}): a relay round runs once`));
}

/** Round 0, as any run's: the merged statistics of the sites that reported. */
async function statisticsStep(engine: Engine, run: RunRow, state: RelayState): Promise<RelayStatistics> {
  refuseCommitted(engine, run, 0);
  const out = await statisticsRound(engine, run, state.configHash);
  if (typeof out === 'string') throw new StepFailed(out);
  return { stats: out.stats, sites: out.sites, head: engine.store.signedHead() };
}

/** One training round from the parent's model, with the parent's task as it came (its dp and secure marks aside). */
async function trainStep(engine: Engine, run: RunRow, state: RelayState, task: RelayTask): Promise<Buffer> {
  const { header, weights, inputs } = task;
  refuseCommitted(engine, run, header.round);
  engine.link.expectRun({ statsReportBytes: statsReportBytes(run.config.study), updateFrameBytes: updateFrameBytes(weights) });
  const from = { round: header.round - 1, weights, modelHash: header.modelHash, prep: header.config.preprocessing, inputs, progress: state.progress, strategy: null };
  // Evaluated like any round: the sites receive the regional aggregate's bytes that way, which they
  // must hold before they endorse its entry (and a region's endorsement of its parent's entry waits
  // for theirs); the regional entry gets the region's own metrics.
  const next = await trainingRound(engine, run, state.strategy, from, header.config, state.configHash);
  if (typeof next === 'string') throw new StepFailed(next);
  state.progress = next.state.progress;
  const { participants, metrics } = next.entry;
  const relayHeader = {
    v: PROTOCOL_VERSION,
    kind: 'relay-update',
    runId: run.id,
    round: header.round,
    modelHash: next.state.modelHash,
    numExamples: participants.reduce((n, p) => n + p.numExamples, 0),
    trainLoss: metrics.trainLoss ?? 0,
    sites: participants.length,
    head: engine.store.signedHead(),
  };
  return encodeFrame(relayHeader, next.state.weights);
}

/** The evaluation phase over the connected sites, pooled into one answer; fewer than minSites evaluations fail the run. */
async function evaluateStep(engine: Engine, run: RunRow, task: RelayTask): Promise<RelayEvaluation> {
  const { config } = run;
  const { header, weights } = task;
  // The run ends failed; the round, maybe committed already, gets no failed row of its own.
  const fail = (reason: string): never => {
    const recorded = `E_ROUND_FAILED: evaluation of round ${header.round}: ${reason}`;
    engine.store.endRun(run.id, 'failed', recorded);
    throw new StepFailed(recorded);
  };
  const absent = await waitForSites(engine, run.id, config, header.round);
  if (absent !== null) fail(absent);
  engine.link.expectRun({ statsReportBytes: statsReportBytes(config.study), updateFrameBytes: updateFrameBytes(weights) });
  const phase = new EvaluationPhase(run.id, header.round, { weights, modelHash: header.modelHash }, header.config, connectedSet(engine), config.roundTimeoutSec * 1000);
  await runPhase(engine, phase);
  const evals = phase.results();
  if (evals.size < config.minSites) {
    fail(phaseFailure('evaluations', evals.size, config.minSites, phaseOutcomes(phase.collector, 'evaluation', () => ({})), config.roundTimeoutSec));
  }
  engine.log(`run ${run.id}: relay evaluation of round ${header.round}: ${[...evals.values()].reduce((n, e) => n + e.numExamples, 0)} held-out rows from ${evals.size} sites`);
  return pooledEvaluation(header.config.study, [...evals.values()]);
}
