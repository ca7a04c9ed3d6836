// A crash drill for operators and tests: with FEDRX_SITE_CRASH_AT=MESSAGE@ROUND, the agent kills
// itself with SIGKILL the moment it receives that message of that round, before answering it:
// e.g. `secagg-roster@1` (gone during the share exchange), `train@2`, `secagg-unmask@1`. A
// hospital losing power mid-round, reproducibly.

import { FedrxError } from '../shared/errors.js';

export const SITE_CRASH_MESSAGES = ['secagg-setup', 'secagg-roster', 'secagg-inbox', 'train', 'evaluate', 'secagg-unmask'] as const;
export type SiteCrashMessage = (typeof SITE_CRASH_MESSAGES)[number];

export interface SiteCrashPoint {
  message: SiteCrashMessage;
  round: number;
}

export function parseSiteCrashPoint(spec: string): SiteCrashPoint {
  const m = /^([a-z-]+)@(\d+)$/.exec(spec.trim());
  const message = m?.[1] as SiteCrashMessage | undefined;
  if (m === null || message === undefined || !SITE_CRASH_MESSAGES.includes(message)) {
    throw new FedrxError('E_BAD_REQUEST', `FEDRX_SITE_CRASH_AT must be MESSAGE@ROUND with MESSAGE one of ${SITE_CRASH_MESSAGES.join(', ')}; got "${spec}"`);
  }
  return { message, round: Number(m[2]) };
}

/** Kills the process when `message` of `round` reaches the armed point. */
export function crashIfArmed(point: SiteCrashPoint | null, message: string, round: unknown, log: (line: string) => void): void {
  if (point === null || point.message !== message || point.round !== round) return;
  log(`crash drill: FEDRX_SITE_CRASH_AT=${point.message}@${point.round} reached: SIGKILL`);
  process.kill(process.pid, 'SIGKILL');
}
