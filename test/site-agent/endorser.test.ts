// The endorser across restarts: entries waiting for their model, and the models already checked,
// survive a restart of the agent; a coordinator that lost endorsements gets the kept ones again.

import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GENESIS_PREV_HASH, sealEntry, type LedgerEntry } from '../../shared/ledger.js';
import { endorsementBody, generateKeyPair, sign, updateBody, verify } from '../../shared/signing.js';
import type { Dispute, Endorsement } from '../../shared/wire.js';
import { entryFigures, PrivacyTally } from '../../shared/privacy/privacy-from-chain.js';
import { Endorser } from '../../site-agent/endorser.js';
import { Replica } from '../../site-agent/replica.js';
import { tempDir, type TempDir } from './helpers.js';

const COORD = generateKeyPair();
const SITE = { siteId: 'site-a', keys: generateKeyPair() };
const hex = (c: string): string => c.repeat(64);

/**
 * Entries 0..n-1, each listing site-a's signed update; entry i commits model hex(String(i)). With
 * `dp`, each is a private round with the figures the chain gives, times `skew(i)`.
 */
function entries(n: number, dp?: { skew: (index: number) => number }): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  const tally = new PrivacyTally();
  for (let index = 0; index < n; index++) {
    const parentModelHash = hex('f');
    const u = { runId: 'run-1', round: index + 1, siteId: SITE.siteId, baseModelHash: parentModelHash, updateHash: hex('a'), numExamples: 9 };
    const participants = [{ siteId: SITE.siteId, numExamples: 9, updateHash: hex('a'), signature: sign('update', updateBody(u), SITE.keys.secretKey) }];
    const privacy = dp === undefined ? undefined : entryFigures(tally, { runId: 'run-1', round: index + 1, participants }, { mechanism: 'gaussian-sum', noiseMultiplier: 2, sigma: 2, clip: 1, delta: 1e-3, samplingRate: 1 });
    if (privacy !== undefined) privacy.siteEpsilon[0]!.epsilon *= dp!.skew(index);
    out.push(sealEntry({
      index, prevHash: index === 0 ? GENESIS_PREV_HASH : out[index - 1]!.entryHash, runId: 'run-1', round: index + 1, modelHash: hex(String(index)), parentModelHash,
      participants, configHash: hex('c'), metrics: {}, createdAt: '2026-01-01T00:00:00.000Z', coordinatorKey: COORD.publicKey,
      ...(privacy === undefined ? {} : { privacy }),
    }, COORD.secretKey));
  }
  return out;
}

let tmp: TempDir | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

/** An agent's replica and endorser on `dir`, as at start-up; collects what it sends. */
async function start(dir: string): Promise<{ replica: Replica; endorser: Endorser; sent: (Endorsement | Dispute)[] }> {
  const replica = await Replica.open(dir, { coordinatorKey: COORD.publicKey, site: { siteId: SITE.siteId, publicKey: SITE.keys.publicKey } });
  const sent: (Endorsement | Dispute)[] = [];
  const endorser = await Endorser.open({ siteId: SITE.siteId, keys: SITE.keys, replica, send: (m) => sent.push(m), onDispute: () => {}, log: () => {} });
  return { replica, endorser, sent };
}

const settle = async (n: number, sent: unknown[]): Promise<void> => {
  for (let i = 0; i < 100 && sent.length < n; i++) await new Promise((r) => setTimeout(r, 20));
};

describe('Endorser', () => {
  it('still endorses, after a restart, an entry that was waiting for its model', async () => {
    const dir = path.join((tmp = tempDir('endorser-')).dir, 'replica');
    const chain = entries(2);
    const first = await start(dir);
    first.endorser.review(await first.replica.append(chain));
    await first.endorser.flushed();
    expect(first.sent).toEqual([]); // neither model received yet

    const second = await start(dir); // the agent restarts
    second.endorser.noteModel(hex('1'));
    await settle(1, second.sent);
    expect(second.sent).toEqual([{ type: 'endorsement', v: 1, index: 1, entryHash: chain[1]!.entryHash, signature: expect.any(String) }]);
    expect(verify('endorsement', endorsementBody(SITE.siteId, 1, chain[1]!.entryHash), (second.sent[0] as Endorsement).signature, SITE.keys.publicKey)).toBe(true);
    expect(second.replica.ownEndorsements().map((e) => e.index)).toEqual([1]);
    await second.endorser.flushed();

    // Entry 0 still waits, across another restart; a model noted twice is not endorsed twice.
    const third = await start(dir);
    third.endorser.noteModel(hex('1'));
    third.endorser.noteModel(hex('0'));
    await settle(1, third.sent);
    expect(third.sent.map((m) => m.index)).toEqual([0]);
  });

  it('remembers a model received before a restart, for an entry that arrives after it', async () => {
    const dir = path.join((tmp = tempDir('endorser-')).dir, 'replica');
    const first = await start(dir);
    first.endorser.noteModel(hex('0'));
    await first.endorser.flushed();
    const second = await start(dir);
    second.endorser.review(await second.replica.append(entries(1)));
    await settle(1, second.sent);
    expect(second.sent.map((m) => [m.type, m.index])).toEqual([['endorsement', 0]]);
  });

  it('re-sends the endorsements it kept, endorses afresh one it never made, and ignores entries it does not hold', async () => {
    const dir = path.join((tmp = tempDir('endorser-')).dir, 'replica');
    const chain = entries(3);
    const first = await start(dir);
    first.endorser.noteModel(hex('0'));
    first.endorser.review(await first.replica.append(chain.slice(0, 2)));
    await settle(1, first.sent);
    const kept = first.sent[0] as Endorsement;
    await first.endorser.flushed();

    const second = await start(dir);
    second.endorser.noteModel(hex('1')); // entry 1's model: it was waiting, so it is endorsed now
    await settle(1, second.sent);
    second.sent.length = 0;
    second.endorser.resend([0, 1, 2]); // entry 2 is not held: left to the ledger sync
    await settle(2, second.sent);
    expect(second.sent.map((m) => m.index).sort()).toEqual([0, 1]);
    expect(second.sent.find((m) => m.index === 0)).toEqual(kept);
    expect(second.replica.ownEndorsements().map((e) => e.index)).toEqual([0, 1]); // nothing signed twice
  });

  it('after a restart, still disputes an entry that records another contribution than the one it sent', async () => {
    const dir = path.join((tmp = tempDir('endorser-')).dir, 'replica');
    const chain = entries(2); // site-a's signed update hash hex('a') of 9 rows, rounds 1 and 2
    const first = await start(dir);
    first.endorser.noteContribution({ runId: 'run-1', round: 1, updateHash: hex('a'), numExamples: 9 });
    first.endorser.noteContribution({ runId: 'run-1', round: 2, updateHash: hex('e'), numExamples: 9 }); // what it really sent for round 2
    await first.endorser.flushed();

    const disputed: number[] = [];
    const replica = await Replica.open(dir, { coordinatorKey: COORD.publicKey });
    const sent: (Endorsement | Dispute)[] = [];
    const second = await Endorser.open({ siteId: SITE.siteId, keys: SITE.keys, replica, send: (m) => sent.push(m), onDispute: (i) => disputed.push(i), log: () => {} });
    second.noteModel(hex('0'));
    second.review(await replica.append(chain));
    await settle(2, sent);
    expect(disputed).toEqual([1]);
    expect(sent.map((m) => [m.type, m.index])).toEqual([['dispute', 1], ['endorsement', 0]]);
    expect((sent[0] as Dispute).reason).toBe(`entry 1 records update ${'a'.repeat(12)} of 9 rows; this site sent ${'e'.repeat(12)} of 9`);
  });

  it('disputes a private round whose recorded ε for this site is not what its replica gives', async () => {
    const dir = path.join((tmp = tempDir('endorser-')).dir, 'replica');
    const chain = entries(2, { skew: (i) => (i === 1 ? 0.5 : 1) }); // entry 1 halves site-a's ε
    const { replica, endorser, sent } = await start(dir);
    endorser.noteModel(hex('0'));
    endorser.noteModel(hex('1'));
    endorser.review(await replica.append(chain));
    await settle(2, sent);
    expect(sent.map((m) => [m.type, m.index])).toEqual([['dispute', 1], ['endorsement', 0]]);
    expect((sent[0] as Dispute).reason).toBe('entry 1 records another ε for site-a than the chain gives');
  });

  it('checks its listing in a secure round: in the sum as a participant, and never counted as dropped after uploading', async () => {
    const dir = path.join((tmp = tempDir('endorser-')).dir, 'replica');
    const secure = { protocol: 'secagg+' as const, threshold: 2, neighbours: 2, clip: 4, quantBits: 20, modulusBits: 32, maxWeight: 9 };
    const signed = (round: number) => {
      const u = { runId: 'run-1', round, siteId: SITE.siteId, baseModelHash: hex('f'), updateHash: hex('a'), numExamples: 9 };
      return { siteId: SITE.siteId, numExamples: 9, updateHash: hex('a'), signature: sign('update', updateBody(u), SITE.keys.secretKey) };
    };
    const chain: LedgerEntry[] = [];
    const add = (round: number, participants: LedgerEntry['participants'], section: NonNullable<LedgerEntry['secure']>): void => {
      const index = chain.length;
      chain.push(sealEntry({
        index, prevHash: index === 0 ? GENESIS_PREV_HASH : chain[index - 1]!.entryHash, runId: 'run-1', round, modelHash: hex(String(index)), parentModelHash: hex('f'),
        participants, configHash: hex('c'), secure: section, metrics: {}, createdAt: '2026-01-01T00:00:00.000Z', coordinatorKey: COORD.publicKey,
      }, COORD.secretKey));
    };
    add(1, [signed(1)], { ...secure, included: [SITE.siteId], recovered: ['site-b'], examples: 9 }); // right
    add(2, [signed(2)], { ...secure, included: [SITE.siteId, 'site-b'], recovered: [], examples: 9 }); // participants are not the sum's sites
    add(3, [signed(3)], { ...secure, included: [SITE.siteId], recovered: [], examples: 20 }); // count differs from the sum's
    add(4, [], { ...secure, included: ['site-b', 'site-c'], recovered: [SITE.siteId], examples: 30 }); // says site-a dropped after it uploaded
    const disputed: number[] = [];
    const replica = await Replica.open(dir, { coordinatorKey: COORD.publicKey, site: { siteId: SITE.siteId, publicKey: SITE.keys.publicKey } });
    const sent: (Endorsement | Dispute)[] = [];
    const endorser = await Endorser.open({ siteId: SITE.siteId, keys: SITE.keys, replica, send: (m) => sent.push(m), onDispute: (i) => disputed.push(i), log: () => {} });
    for (let round = 1; round <= 4; round++) endorser.noteContribution({ runId: 'run-1', round, updateHash: hex('a'), numExamples: 9 });
    endorser.noteModel(hex('0'));
    endorser.review(await replica.append(chain));
    await settle(4, sent);
    expect(disputed).toEqual([1, 2, 3]);
    expect(sent.filter((m) => m.type === 'endorsement').map((m) => m.index)).toEqual([0]);
    expect(sent.filter((m): m is Dispute => m.type === 'dispute').map((m) => m.reason)).toEqual([
      'entry 1 lists participants that are not the sites of its secure sum',
      'entry 2 lists 9 examples, its secure sum counted 20',
      `entry 3 counts site-a as dropped from the secure sum, but this site sent masked update ${'a'.repeat(12)}`,
    ]);
  });
});
