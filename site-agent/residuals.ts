// What error feedback holds back at this site (shared/compression/error-feedback.ts), per run, in
// the agent's memory. An agent that restarts starts again from no residual: the rounds after it
// are sent whole, only what earlier rounds held back is lost (a few per cent of one round's change
// at top-k 1%). A round trained again (redone after a coordinator crash, its kept answer lost)
// starts from the residual it started from the first time, so nothing is counted twice.

const RUNS_KEPT = 4;

interface RunResidual {
  round: number;
  /** What the round `round` started from, and what it left. */
  before: Float32Array | null;
  after: Float32Array;
}

export class Residuals {
  private readonly runs = new Map<string, RunResidual>();

  /** The residual to add to `round`'s change. */
  carryInto(runId: string, round: number): Float32Array | null {
    const r = this.runs.get(runId);
    if (r === undefined) return null;
    return r.round === round ? r.before : r.after;
  }

  /** What `round` left unsent, once its answer is made. */
  record(runId: string, round: number, residual: Float32Array): void {
    const before = this.carryInto(runId, round);
    this.runs.delete(runId); // re-inserted last: the oldest run is the first one forgotten
    this.runs.set(runId, { round, before, after: residual });
    for (const old of this.runs.keys()) {
      if (this.runs.size <= RUNS_KEPT) break;
      this.runs.delete(old);
    }
  }
}
