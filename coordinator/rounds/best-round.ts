// Which round of an iterative run is its best, by the federated validation loss, and when to stop
// a run whose validation loss has stopped falling. Pure; the state is a plain object so a run's
// progress can be saved beside its strategy state and resumed.

export interface BestRoundState {
  /** The round whose model the run keeps (served to clinicians); null before any round. */
  bestRound: number | null;
  /** Its validation loss; null when the run has no validation part (it keeps its last round). */
  bestLoss: number | null;
  /** Rounds since the best one that did not improve on it. */
  sinceBest: number;
}

export const initialBestRound = (): BestRoundState => ({ bestRound: null, bestLoss: null, sinceBest: 0 });

export interface RoundVerdict {
  state: BestRoundState;
  /** Why the run stops after this round; null to go on. */
  stop: string | null;
}

/**
 * Folds one round in. `valLoss` undefined: no validation figure this round, so the round can be
 * neither chosen nor blamed (a run without validation keeps its last round). `patience` 0 never
 * stops; N stops once N rounds in a row have not beaten the best validation loss.
 */
export function observeRound(state: BestRoundState, round: number, valLoss: number | undefined, patience: number): RoundVerdict {
  if (valLoss === undefined) {
    return { state: state.bestLoss === null ? { ...state, bestRound: round } : state, stop: null };
  }
  if (state.bestLoss === null || valLoss < state.bestLoss) {
    return { state: { bestRound: round, bestLoss: valLoss, sinceBest: 0 }, stop: null };
  }
  const next = { ...state, sinceBest: state.sinceBest + 1 };
  if (patience === 0 || next.sinceBest < patience) return { state: next, stop: null };
  return {
    state: next,
    stop: `validation loss has not improved for ${next.sinceBest} round${next.sinceBest > 1 ? 's' : ''} (best round ${next.bestRound}, validation loss ${next.bestLoss!.toFixed(4)})`,
  };
}
