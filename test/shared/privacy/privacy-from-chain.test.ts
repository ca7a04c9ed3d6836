import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { computeEntryHash, GENESIS_PREV_HASH, sealEntry, verifyChain, type LedgerEntry, type UnsignedEntry } from '../../../shared/ledger.js';
import { entryFigures, privacyFromChain, privacyMismatches, PrivacyTally } from '../../../shared/privacy/privacy-from-chain.js';
import { epsilonOf } from '../../../shared/privacy/rdp.js';
import { generateKeyPair } from '../../../shared/signing.js';

const KEY = generateKeyPair();
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const part = (siteId: string): LedgerEntry['participants'][number] => ({ siteId, numExamples: 10, updateHash: hex(siteId), signature: hex(siteId) + hex(siteId) });

/** A chain of [runId, round, sites, dp?] rounds, each private one carrying the figures the tally gives. */
function chain(rounds: [string, number, string[], { z: number; q: number; delta: number } | null][]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  const tally = new PrivacyTally();
  rounds.forEach(([runId, round, sites, dp], index) => {
    const base: UnsignedEntry = {
      index, prevHash: out.at(-1)?.entryHash ?? GENESIS_PREV_HASH, runId, round, modelHash: hex(`m${index}`), parentModelHash: round === 0 ? null : hex(`m${index - 1}`),
      participants: sites.map(part), configHash: hex(runId), metrics: {}, createdAt: '2026-01-01T00:00:00.000Z', coordinatorKey: KEY.publicKey,
    };
    const privacy = dp === null ? undefined : entryFigures(tally, base, { mechanism: 'gaussian-sum', noiseMultiplier: dp.z, sigma: dp.z, clip: 1, delta: dp.delta, samplingRate: dp.q });
    if (dp === null) tally.add(base);
    out.push(sealEntry(privacy === undefined ? base : { ...base, privacy }, KEY.secretKey));
  });
  return out;
}

describe('privacyFromChain', () => {
  const dpA = { z: 1.5, q: 1, delta: 1e-3 };
  const dpB = { z: 2, q: 0.5, delta: 1e-4 };
  const entries = chain([
    ['run-a', 0, ['s1', 's2'], null],
    ['run-a', 1, ['s1', 's2'], dpA],
    ['run-a', 2, ['s1'], dpA],
    ['run-b', 0, ['s2', 's3'], null],
    ['run-b', 1, ['s2', 's3'], dpB],
    ['run-c', 1, ['s3'], null], // a training round without DP
  ]);

  it('composes each run over its own rounds and each site over every run it took part in', () => {
    const p = privacyFromChain(entries);
    const run = (id: string): number => p.runs.find((r) => r.runId === id)!.epsilon;
    const site = (id: string) => p.sites.find((s) => s.siteId === id)!;
    expect(run('run-a')).toBeCloseTo(epsilonOf([{ q: 1, sigma: 1.5, steps: 2 }], 1e-3), 12);
    expect(run('run-b')).toBeCloseTo(epsilonOf([{ q: 0.5, sigma: 2, steps: 1 }], 1e-4), 12);
    expect(site('s1')).toMatchObject({ privateRounds: 2, nonPrivateRounds: 0, delta: 1e-3 });
    expect(site('s1').epsilon).toBeCloseTo(run('run-a'), 12);
    // s2: one round of run-a and one of run-b, at run-b's δ (its latest run)
    expect(site('s2').epsilon).toBeCloseTo(epsilonOf([{ q: 1, sigma: 1.5, steps: 1 }, { q: 0.5, sigma: 2, steps: 1 }], 1e-4), 12);
    expect(site('s3')).toMatchObject({ privateRounds: 1, nonPrivateRounds: 1 });
    expect(p.runs.map((r) => r.runId)).toEqual(['run-a', 'run-b']);
  });

  it('writes into each private entry the figures a replica recomputes, and finds one that was changed', () => {
    expect(privacyMismatches(entries)).toEqual([]);
    const e2 = entries[2]!.privacy!;
    expect(e2.runEpsilon).toBe(privacyFromChain(entries.slice(0, 3)).runs[0]!.epsilon);
    expect(entries[4]!.privacy!.siteEpsilon.map((s) => s.siteId)).toEqual(['s2', 's3']);
    const forged = structuredClone(entries);
    forged[4]!.privacy!.siteEpsilon[0]!.epsilon *= 0.5;
    expect(privacyMismatches(forged).map(([i]) => i)).toEqual([4]);
  });

  it('hashes an entry without DP exactly as before the field existed, so old chains verify', () => {
    const old = entries[0]!;
    const { entryHash: _h, coordinatorSignature: _s, ...fields } = old;
    const before = createHash('sha256').update('fedrx/ledger-entry/v1\0' + canonicalJson(fields)).digest('hex');
    expect(computeEntryHash(old)).toBe(before);
    expect(verifyChain(entries)).toMatchObject({ ok: true, length: 6 });
    const tampered = structuredClone(entries);
    tampered[1]!.privacy!.sigma = 3;
    expect(verifyChain(tampered)).toMatchObject({ ok: false, badIndex: 1 });
  });
});
