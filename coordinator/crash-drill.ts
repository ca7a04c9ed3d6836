// A crash drill for operators and tests: with FEDRX_CRASH_AT=STEP[:PHASE]@ROUND, `fedrx
// coordinator` kills itself with SIGKILL (no cleanup, as a power cut or the OOM killer would) the
// first time a run reaches that moment, e.g. `answer:training@2` (mid-upload: the first update of
// round 2 accepted), `aggregated@3` (between aggregation and commit), `committed@4`. Started
// again on the same database, the run must go on as if nothing happened.

import { FedrxError } from '../shared/errors.js';
import type { RunStep, StepObserver } from './rounds/run-steps.js';

const STEPS = ['phase-open', 'answer', 'aggregated', 'committed'] as const;

export interface CrashPoint {
  step: RunStep['step'];
  phase: string | null;
  round: number;
}

export function parseCrashPoint(spec: string): CrashPoint {
  const m = /^([a-z-]+)(?::([a-z0-9 -]+))?@(\d+)$/.exec(spec.trim());
  const step = m?.[1] as RunStep['step'] | undefined;
  if (m === null || step === undefined || !(STEPS as readonly string[]).includes(step)) {
    throw new FedrxError('E_BAD_REQUEST', `FEDRX_CRASH_AT must be STEP[:PHASE]@ROUND with STEP one of ${STEPS.join(', ')}, e.g. answer:training@2; got "${spec}"`);
  }
  return { step, phase: m[2] ?? null, round: Number(m[3]) };
}

export function reaches(point: CrashPoint, s: RunStep): boolean {
  return s.step === point.step && s.round === point.round && (point.phase === null || ('phase' in s && s.phase === point.phase));
}

/** The observer that kills this process at `point`, after one line saying so. */
export function crashAt(point: CrashPoint, log: (line: string) => void): StepObserver {
  return (s) => {
    if (!reaches(point, s)) return;
    log(`crash drill: killed at ${s.step}${'phase' in s ? `:${s.phase}` : ''}@${s.round} of run ${s.runId}`);
    process.kill(process.pid, 'SIGKILL');
  };
}
