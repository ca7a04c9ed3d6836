// Where a run stands after a committed round: the model, the preprocessing and the progress the
// loop needs to go on. Saved with each round in the same transaction (store.commitRound), so a
// coordinator killed at any moment resumes its run from the last committed round; the round that
// was in flight is simply redone.

import { Value } from '@sinclair/typebox/value';
import { FedrxError } from '../../shared/errors.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import { runStudy } from '../../shared/expand-study.js';
import { RunConfigSchema } from '../run-config-schema.js';
import type { Study } from '../../shared/study.js';
import type { Weights } from '../../shared/tensors.js';
import type { RunRow, Store } from '../store/store.js';
import type { StrategyState } from '../strategies/types.js';
import { initialBestRound, type BestRoundState } from './best-round.js';

/** The loop's own progress, saved as JSON beside the strategy's state. */
export interface RunProgress {
  best: BestRoundState;
}

export const initialProgress = (): RunProgress => ({ best: initialBestRound() });

export interface RunState {
  /** The last committed round (0: statistics only). */
  round: number;
  /** Its model, which the next round starts from. */
  weights: Weights;
  modelHash: string;
  prep: Preprocessing;
  /** The study as the run's models read it: feature groups expanded to the input list of round 0. */
  inputs: Study;
  progress: RunProgress;
  /** The strategy's saved state, for its factory; null when it keeps none. */
  strategy: StrategyState | null;
}

/**
 * The state of a run a stopped coordinator left running, or null when it committed no round
 * (it starts again from round 0). Throws E_RUN_NOT_RESUMABLE, naming what is missing, when
 * its saved state does not hold together: the run is then marked failed with that reason.
 */
export function resumeState(store: Store, run: RunRow): RunState | null {
  const saved = store.savedState(run.id);
  if (saved === null) return null;
  const refuse = (why: string): never => {
    throw new FedrxError('E_RUN_NOT_RESUMABLE', `run ${run.id} cannot continue after round ${saved.round}: ${why}`);
  };
  if (!Value.Check(RunConfigSchema, run.config)) refuse('its configuration is not valid for this version of the coordinator');
  const prep = run.preprocessing ?? refuse('its preprocessing (round 0) is missing');
  // The run's newest ledger entry is its last committed round (one transaction wrote both).
  const last = store.latestModelHash(run.id);
  if (last === null || last.round !== saved.round) refuse(`round ${saved.round} is not committed`);
  const model = store.getModel(last!.modelHash);
  if (model === null) refuse(`the model of round ${saved.round} is missing`);
  let progress: RunProgress;
  try {
    progress = JSON.parse(saved.progress) as RunProgress;
  } catch {
    return refuse('its saved progress is not valid JSON');
  }
  if (typeof progress !== 'object' || progress === null || typeof progress.best !== 'object') refuse('its saved progress is incomplete');
  return { round: saved.round, weights: model!.weights, modelHash: last!.modelHash, prep, inputs: runStudy(run.config.study, prep), progress, strategy: saved.strategy };
}
