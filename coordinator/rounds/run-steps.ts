// The moments of a run that an observer may watch: a phase opened (its requests are out), a
// site's answer accepted, the next model aggregated, a round committed. Progress displays use them;
// `fedrx coordinator` can stop dead at one of them to prove that a crash there loses nothing
// (crash-point.ts).

export type RunStep =
  | { step: 'phase-open' | 'answer'; phase: string; runId: string; round: number }
  | { step: 'aggregated' | 'committed'; runId: string; round: number };

export type StepObserver = (s: RunStep) => void;
