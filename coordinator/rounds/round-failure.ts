// Why a phase of a round (statistics or training) could not close: the sites that disconnected,
// the sites that refused or failed, and the sites still silent when the deadline passed, each
// named, so "busy", "gone" and "broken" read differently in the run's error and its round line.

import type { SiteOutcome } from '../store/store.js';

const list = (xs: string[]): string => xs.join(', ');

/**
 * `accepted` of `needed` answers (`what`: "updates", "statistics reports") arrived out of the
 * `outcomes` of every selected site; `deadlineSec` is the phase's own timeout.
 */
export function phaseFailure(what: string, accepted: number, needed: number, outcomes: readonly SiteOutcome[], deadlineSec: number): string {
  if (outcomes.length === 0) return `${accepted} of the ${needed} ${what} needed: no site was selected`;
  const notAccepted = outcomes.filter((o) => o.status !== 'accepted');
  const disconnected = notAccepted.filter((o) => o.code === 'E_DISCONNECTED').map((o) => o.siteId);
  const silent = notAccepted.filter((o) => o.status === 'missing').map((o) => o.siteId);
  const refused = notAccepted.filter((o) => o.status !== 'missing' && o.code !== 'E_DISCONNECTED').map((o) => `${o.siteId}: ${o.code ?? o.status}`);
  const parts: string[] = [];
  if (disconnected.length > 0) parts.push(`${disconnected.length} site${disconnected.length > 1 ? 's' : ''} disconnected (${list(disconnected)})`);
  if (refused.length > 0) parts.push(`${refused.length} refused or failed (${list(refused)})`);
  if (silent.length > 0) {
    parts.push(`the ${deadlineSec} s deadline passed with ${accepted} of ${outcomes.length} ${what} in (no answer from ${list(silent)})`);
  }
  return `${accepted} of the ${needed} ${what} needed: ${parts.length > 0 ? parts.join('; ') : 'all answers accepted'}`;
}
