import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../shared/ledger.js';
import { entryFigures, PrivacyTally } from '../../shared/privacy/privacy-from-chain.js';
import { epsilonOf } from '../../shared/privacy/rdp.js';
import { privacyRefusal } from '../../site-agent/privacy-guard.js';

/** Two private rounds of an earlier run that site-1 took part in (only the fields the tally reads). */
function replica(): LedgerEntry[] {
  const tally = new PrivacyTally();
  const participants = [{ siteId: 'site-1', numExamples: 5, updateHash: 'a'.repeat(64), signature: 'b'.repeat(128) }];
  return [1, 2].map((round) => {
    const privacy = entryFigures(tally, { runId: 'run-old', round, participants }, { mechanism: 'gaussian-sum', noiseMultiplier: 2, sigma: 2, clip: 1, delta: 1e-3, samplingRate: 1 });
    return { runId: 'run-old', round, participants, privacy } as unknown as LedgerEntry;
  });
}

const dp = { clip: 1, noiseStd: 0, noiseMultiplier: 2, samplingRate: 1, delta: 1e-3, roundsLeft: 3 };

describe('--max-epsilon (privacyRefusal)', () => {
  const spentAfter = epsilonOf([{ q: 1, sigma: 2, steps: 5 }], 1e-3);

  it('lets a site train while what it spent plus the rest of this run stays within its budget', () => {
    expect(privacyRefusal('site-1', spentAfter + 1e-9, replica(), { kind: 'train', dp })).toBeNull();
  });

  it('refuses past it, with the figures', () => {
    const why = privacyRefusal('site-1', spentAfter - 1e-6, replica(), { kind: 'train', dp });
    expect(why).toMatch(/3 remaining rounds .* from ε \d\.\d{3} to \d\.\d{3} at δ 0\.00100, past its --max-epsilon/);
  });

  it('counts only its own rounds: a site that took no part has spent nothing', () => {
    const fresh = epsilonOf([{ q: 1, sigma: 2, steps: 3 }], 1e-3);
    expect(privacyRefusal('site-2', fresh + 1e-9, replica(), { kind: 'train', dp })).toBeNull();
  });

  it('refuses training without DP and exact fits outright', () => {
    expect(privacyRefusal('site-1', 100, [], { kind: 'train' })).toMatch(/without DP has no ε bound/);
    expect(privacyRefusal('site-1', 100, [], { kind: 'exact' })).toMatch(/exact fit/);
  });
});
