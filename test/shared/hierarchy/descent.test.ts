// The four steps from a national entry down to a hospital's own regional entry, on small chains
// sealed by hand with test keys: a sound descent passes every step, and each step is made to fail.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyDescent, type DescentInput } from '../../../shared/hierarchy/descent.js';
import { signHead } from '../../../shared/ledger-head.js';
import { GENESIS_PREV_HASH, sealEntry, type LedgerEntry, type Participant, type UnsignedEntry } from '../../../shared/ledger.js';
import { generateKeyPair, sign, statsBody, updateBody, type KeyPair } from '../../../shared/signing.js';

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const NATIONAL = generateKeyPair();
const REGIONAL = generateKeyPair();
const REGION_AGENT = generateKeyPair();
const HOSPITAL = generateKeyPair();
const OTHER_HOSPITAL = generateKeyPair();

const M0 = hex('national model 0');
const RA = hex('regional aggregate of round 1');

type Fields = Pick<UnsignedEntry, 'runId' | 'round' | 'modelHash' | 'parentModelHash' | 'participants'> & Partial<UnsignedEntry>;

/** Seals `fields` as entries 0, 1, … of one chain signed by `key`. */
function chain(key: KeyPair, entries: Fields[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const f of entries) {
    const prevHash = out.at(-1)?.entryHash ?? GENESIS_PREV_HASH;
    out.push(sealEntry({ configHash: hex('config'), metrics: {}, createdAt: '2026-01-01T00:00:00.000Z', ...f, index: out.length, prevHash, coordinatorKey: key.publicKey }, key.secretKey));
  }
  return out;
}

function contribution(siteId: string, key: KeyPair, runId: string, round: number, base: string | null, updateHash: string): Participant {
  const signature =
    base === null
      ? sign('stats', statsBody({ runId, siteId, statsHash: updateHash, rows: 40 }), key.secretKey)
      : sign('update', updateBody({ runId, round, siteId, baseModelHash: base, updateHash, numExamples: 40 }), key.secretKey);
  return { siteId, numExamples: 40, updateHash, signature };
}

/** A regional chain: its round 0, then round 1 trained from the national model `from`, aggregated to `aggregate`. */
function regionalChain(opts: { from?: string; hospitals?: [string, KeyPair][] } = {}): LedgerEntry[] {
  const hospitals = opts.hospitals ?? [['hospital-1', HOSPITAL], ['hospital-2', OTHER_HOSPITAL]];
  const from = opts.from ?? M0;
  return chain(REGIONAL, [
    { runId: 'run-r', round: 0, modelHash: hex('regional round 0'), parentModelHash: null, participants: hospitals.map(([id, k]) => contribution(id, k, 'run-r', 0, null, hex(`stats ${id}`))) },
    { runId: 'run-r', round: 1, modelHash: RA, parentModelHash: from, participants: hospitals.map(([id, k]) => contribution(id, k, 'run-r', 1, from, hex(`update ${id}`))) },
  ]);
}

/** The national chain whose entry 1 commits `head` for region-01, which sent the regional aggregate. */
function nationalChain(regional: readonly LedgerEntry[], over: Partial<Fields> = {}): LedgerEntry[] {
  const head = signHead({ length: regional.length, headHash: regional.at(-1)!.entryHash }, REGIONAL, '2026-01-01T01:00:00.000Z');
  return chain(NATIONAL, [
    { runId: 'run-n', round: 0, modelHash: M0, parentModelHash: null, participants: [contribution('region-01', REGION_AGENT, 'run-n', 0, null, hex('stats region'))] },
    {
      runId: 'run-n', round: 1, modelHash: hex('national model 1'), parentModelHash: M0,
      participants: [contribution('region-01', REGION_AGENT, 'run-n', 1, M0, RA), contribution('region-02', generateKeyPair(), 'run-n', 1, M0, hex('other region'))],
      children: [{ siteId: 'region-01', head }],
      ...over,
    },
  ]);
}

function sound(): DescentInput {
  const regional = regionalChain();
  return { national: nationalChain(regional), nationalIndex: 1, regionId: 'region-01', regional, hospitalId: 'hospital-1', hospitalKey: HOSPITAL.publicKey, hospitalReplica: regional.map((e) => ({ ...e })) };
}

/** The failing step and its detail. */
function failure(input: DescentInput): { step: number; detail: string } {
  const d = verifyDescent(input);
  expect(d.ok).toBe(false);
  const last = d.steps.at(-1)!;
  expect(last.ok).toBe(false);
  expect(d.steps.slice(0, -1).every((s) => s.ok)).toBe(true);
  return { step: last.step, detail: last.detail };
}

describe('verifyDescent', () => {
  it('passes all four steps on a sound hierarchy, and three when no replica is given', () => {
    const d = verifyDescent(sound());
    expect(d.ok).toBe(true);
    expect(d.steps.map((s) => [s.step, s.ok])).toEqual([[1, true], [2, true], [3, true], [4, true]]);
    expect(d.steps[2]!.detail).toMatch(/^regional entry 1 \(round 1\).*hospital-1 is a participant, signed with its key$/);
    const { hospitalReplica: _r, hospitalKey: _k, ...bare } = sound();
    const three = verifyDescent(bare);
    expect(three.ok).toBe(true);
    expect(three.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(three.steps[2]!.detail).toMatch(/its signature not checked: no key given/);
  });

  it('step 1 fails on a national chain that does not verify, an entry without the region\'s child, or a child that is not a participant', () => {
    const s = sound();
    const tampered = s.national.map((e) => ({ ...e }));
    tampered[1] = { ...tampered[1]!, metrics: { evalMae: 1 } };
    expect(failure({ ...s, national: tampered })).toEqual({ step: 1, detail: 'the national chain does not verify: entry 1: entryHash does not match the entry contents' });
    expect(failure({ ...s, nationalIndex: 0 })).toEqual({ step: 1, detail: 'national entry 0 has no children element for region-01' });
    expect(failure({ ...s, nationalIndex: 2 }).detail).toBe('the national chain has 2 entries: there is no entry 2');
    expect(failure({ ...s, regionId: 'region-02' }).detail).toBe('national entry 1 has no children element for region-02');
    const head = s.national[1]!.children![0]!.head;
    expect(failure({ ...s, national: nationalChain(s.regional, { children: [{ siteId: 'region-03', head }] }), regionId: 'region-03' }).detail).toBe(
      'the national chain does not verify: entry 1: children names region-03, which is not a participant',
    );
  });

  it('step 2 fails on a regional chain cut before the head, another entry where the head is, or a head signed by another key', () => {
    const s = sound();
    expect(failure({ ...s, regional: s.regional.slice(0, 1) })).toEqual({ step: 2, detail: 'the head names 2 entries; the chain of region-01 has 1' });
    // The region rewrote its round 1 (another metric), re-sealed with its own key: the head names the old hash.
    const rewritten = chain(REGIONAL, s.regional.map(({ entryHash: _h, coordinatorSignature: _s, index: _i, prevHash: _p, coordinatorKey: _k, ...f }, k) => (k === 1 ? { ...f, metrics: { evalMae: 9 } } : f)));
    expect(failure({ ...s, regional: rewritten })).toMatchObject({ step: 2, detail: expect.stringMatching(/^entry 1 of the chain of region-01 has hash .*, the head names/) });
    // The same chain re-signed by another coordinator key.
    const imposter = generateKeyPair();
    const resigned = chain(imposter, s.regional.map(({ entryHash: _h, coordinatorSignature: _s, index: _i, prevHash: _p, coordinatorKey: _k, ...f }) => f));
    const head = signHead({ length: 2, headHash: resigned[1]!.entryHash }, REGIONAL);
    const forged = { ...head, coordinatorKey: imposter.publicKey };
    expect(failure({ ...s, regional: resigned, national: nationalChain(resigned, { children: [{ siteId: 'region-01', head: forged }] }) })).toMatchObject({ step: 2, detail: expect.stringMatching(/the head's signature does not verify/) });
    expect(failure({ ...s, regional: resigned, national: nationalChain(resigned, { children: [{ siteId: 'region-01', head }] }) })).toMatchObject({ step: 2, detail: expect.stringMatching(/^entry 1 is signed by .*, the head names/) });
  });

  it('step 3 fails when no regional round made the update, it trained from another model, or the hospital is not in it or did not sign', () => {
    const s = sound();
    const otherAggregate = nationalChain(s.regional, { participants: [contribution('region-01', REGION_AGENT, 'run-n', 1, M0, hex('made up'))] });
    expect(failure({ ...s, national: otherAggregate })).toMatchObject({ step: 3, detail: expect.stringMatching(/^no entry of the chain of region-01 up to its head committed model/) });
    const stale = regionalChain({ from: hex('an older national model') });
    expect(failure({ ...s, regional: stale, national: nationalChain(stale) })).toMatchObject({ step: 3, detail: expect.stringMatching(/^regional entry 1 trained from model .*, national entry 1 from/) });
    expect(failure({ ...s, hospitalId: 'hospital-9' })).toEqual({ step: 3, detail: 'regional entry 1 does not list hospital-9 as a participant' });
    expect(failure({ ...s, hospitalKey: OTHER_HOSPITAL.publicKey })).toMatchObject({ step: 3, detail: expect.stringMatching(/^hospital-1's signature in regional entry 1 does not verify/) });
  });

  it('step 4 fails when the hospital\'s replica lacks the entry or holds another one there', () => {
    const s = sound();
    expect(failure({ ...s, hospitalReplica: s.regional.slice(0, 1) })).toEqual({ step: 4, detail: 'the replica of hospital-1 has 1 entries: not entry 1' });
    // A replica of another history: a chain that verifies on its own, but not the region's entry 1.
    const other = regionalChain({ hospitals: [['hospital-1', HOSPITAL]] });
    expect(failure({ ...s, hospitalReplica: other })).toMatchObject({ step: 4, detail: expect.stringMatching(/^entry 1 of the replica of hospital-1 has hash .*, the region's has/) });
    const broken = s.regional.map((e) => ({ ...e }));
    broken[0] = { ...broken[0]!, createdAt: 'edited' };
    expect(failure({ ...s, hospitalReplica: broken }).detail).toMatch(/^the replica of hospital-1 does not verify: entry 0/);
  });

  it('never throws on input that is not chains at all', () => {
    const s = sound();
    const bad: unknown[] = [null, 'x', [null], [{ index: 0 }], { length: 3 }];
    for (const national of bad) expect(failure({ ...s, national: national as LedgerEntry[] }).step).toBe(1);
    for (const regional of bad) expect(failure({ ...s, regional: regional as LedgerEntry[] }).step).toBe(2);
    for (const replica of bad) expect(failure({ ...s, hospitalReplica: replica as LedgerEntry[] }).step).toBe(4);
    expect(failure({ ...s, nationalIndex: Number.NaN }).step).toBe(1);
    expect(verifyDescent(null as unknown as DescentInput)).toMatchObject({ ok: false, steps: [{ step: 1, ok: false }] });
  });
});
