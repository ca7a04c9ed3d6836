import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/canonical-json.js';
import { entryBody, generateKeyPair, sign } from '../../shared/signing.js';
import {
  computeEntryHash,
  GENESIS_PREV_HASH,
  hashConfig,
  sealEntry,
  verifyChain,
  type LedgerEntry,
  type UnsignedEntry,
} from '../../shared/ledger.js';
import { signHead } from '../../shared/ledger-head.js';

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const COORDINATOR = generateKeyPair();
const OTHER_KEY = generateKeyPair();
const SIG = (s: string): string => hex(s) + hex(s + '2');

function buildChain(n = 4): LedgerEntry[] {
  const chain: LedgerEntry[] = [];
  let prevHash = GENESIS_PREV_HASH;
  let parent: string | null = null;
  for (let i = 0; i < n; i++) {
    const modelHash = hex(`model-${i}`);
    const entry = sealEntry({
      index: i,
      prevHash,
      runId: 'run-abc',
      round: i,
      modelHash,
      parentModelHash: parent,
      participants:
        i === 0
          ? []
          : [
              { siteId: 'site-a', numExamples: 120 + i, updateHash: hex(`a-${i}`), signature: SIG(`a-${i}`) },
              { siteId: 'site-b', numExamples: 80, updateHash: hex(`b-${i}`), signature: SIG(`b-${i}`) },
            ],
      configHash: hashConfig({ rounds: 3, lr: 0.01 }),
      metrics: i === 0 ? {} : { trainLoss: 1 / (i + 1), evalMae: 7.25 - i },
      createdAt: `2025-01-0${i + 1}T00:00:00.000Z`,
      coordinatorKey: COORDINATOR.publicKey,
    }, COORDINATOR.secretKey);
    chain.push(entry);
    prevHash = entry.entryHash;
    parent = modelHash;
  }
  return chain;
}

function copy(chain: LedgerEntry[]): LedgerEntry[] {
  return structuredClone(chain);
}

/** Changes one hex digit: '0'→'1', anything else → '0'. */
function flipHex(h: string, at = 10): string {
  return h.slice(0, at) + (h[at] === '0' ? '1' : '0') + h.slice(at + 1);
}

type Tamper = (e: LedgerEntry) => void;

const TAMPERS: Record<string, Tamper> = {
  index: (e) => {
    e.index += 1;
  },
  prevHash: (e) => {
    e.prevHash = flipHex(e.prevHash);
  },
  runId: (e) => {
    e.runId = 'run-abd';
  },
  round: (e) => {
    e.round += 1;
  },
  modelHash: (e) => {
    e.modelHash = flipHex(e.modelHash);
  },
  parentModelHash: (e) => {
    e.parentModelHash = e.parentModelHash === null ? hex('x') : flipHex(e.parentModelHash, 63);
  },
  'parentModelHash → null': (e) => {
    e.parentModelHash = e.parentModelHash === null ? hex('x') : null;
  },
  'participants[0].siteId': (e) => {
    const p = e.participants[0];
    if (p === undefined) e.participants.push({ siteId: 'site-a', numExamples: 1, updateHash: hex('p'), signature: SIG('p') });
    else p.siteId = 'site-A';
  },
  'participants[1].numExamples': (e) => {
    const p = e.participants[1];
    if (p === undefined) e.participants.push({ siteId: 'site-a', numExamples: 1, updateHash: hex('p'), signature: SIG('p') });
    else p.numExamples += 1;
  },
  'participants[0].updateHash': (e) => {
    const p = e.participants[0];
    if (p === undefined) e.participants.push({ siteId: 'site-a', numExamples: 1, updateHash: hex('p'), signature: SIG('p') });
    else p.updateHash = flipHex(p.updateHash, 0);
  },
  'participants order': (e) => {
    if (e.participants.length < 2) e.participants.push({ siteId: 'site-z', numExamples: 1, updateHash: hex('z'), signature: SIG('z') });
    else e.participants.reverse();
  },
  'participants dropped': (e) => {
    if (e.participants.length === 0) e.participants.push({ siteId: 'site-z', numExamples: 1, updateHash: hex('z'), signature: SIG('z') });
    else e.participants.pop();
  },
  'participants[1].signature': (e) => {
    const p = e.participants[1];
    if (p === undefined) e.participants.push({ siteId: 'site-a', numExamples: 1, updateHash: hex('p'), signature: SIG('p') });
    else p.signature = flipHex(p.signature, 100);
  },
  configHash: (e) => {
    e.configHash = flipHex(e.configHash, 63);
  },
  coordinatorKey: (e) => {
    e.coordinatorKey = OTHER_KEY.publicKey;
  },
  'coordinatorSignature flipped': (e) => {
    e.coordinatorSignature = flipHex(e.coordinatorSignature, 70);
  },
  'coordinatorSignature by another key': (e) => {
    e.coordinatorSignature = sign('entry', entryBody(e.entryHash), OTHER_KEY.secretKey);
  },
  'metrics value': (e) => {
    e.metrics = { ...e.metrics, trainLoss: (e.metrics.trainLoss ?? 0) + 1e-9 };
  },
  'metrics key added': (e) => {
    e.metrics = { ...e.metrics, extra: 0 };
  },
  createdAt: (e) => {
    e.createdAt = e.createdAt.replace('T00', 'T01');
  },
  entryHash: (e) => {
    e.entryHash = flipHex(e.entryHash, 5);
  },
  'metrics NaN (cannot be encoded)': (e) => {
    e.metrics = { ...e.metrics, trainLoss: Number.NaN };
  },
};

describe('ledger chain', () => {
  it('a sealed chain of 4 verifies with its head hash', () => {
    const chain = buildChain();
    expect(chain.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(chain[0]!.prevHash).toBe(GENESIS_PREV_HASH);
    for (let i = 1; i < 4; i++) expect(chain[i]!.prevHash).toBe(chain[i - 1]!.entryHash);
    expect(verifyChain(chain)).toEqual({ ok: true, length: 4, headHash: chain[3]!.entryHash });
    expect(verifyChain([])).toEqual({ ok: true, length: 0, headHash: GENESIS_PREV_HASH });
    // A replica resuming after entry 1 checks only the rest.
    expect(verifyChain(chain.slice(2), chain[1]!)).toEqual({ ok: true, length: 4, headHash: chain[3]!.entryHash });
  });

  for (const [field, tamper] of Object.entries(TAMPERS)) {
    it(`a change to ${field} of entry 2 is caught at index 2; of entry 0 at index 0`, () => {
      const chain = copy(buildChain());
      const before = JSON.stringify(chain[2]);
      tamper(chain[2]!);
      expect(JSON.stringify(chain[2])).not.toBe(before); // the tamper did change something
      const r = verifyChain(chain);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.badIndex).toBe(2);

      const chain0 = copy(buildChain());
      tamper(chain0[0]!);
      const r0 = verifyChain(chain0);
      expect(r0.ok).toBe(false);
      if (!r0.ok) expect(r0.badIndex).toBe(0);
    });
  }

  it('a re-sealed tampered entry is caught at the next entry', () => {
    const chain = copy(buildChain());
    const { entryHash: _drop, coordinatorSignature: _sig, ...body } = chain[2]!;
    chain[2] = sealEntry({ ...body, metrics: { trainLoss: 0 } }, COORDINATOR.secretKey);
    const r = verifyChain(chain);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.badIndex).toBe(3);
  });

  it('dropping an entry is caught', () => {
    const chain = copy(buildChain());
    chain.splice(2, 1);
    const r = verifyChain(chain);
    expect(r).toMatchObject({ ok: false, badIndex: 2 });
    const first = copy(buildChain()).slice(1);
    expect(verifyChain(first)).toMatchObject({ ok: false, badIndex: 0 });
  });

  it('swapping two entries is caught', () => {
    const chain = copy(buildChain());
    [chain[1], chain[2]] = [chain[2]!, chain[1]!];
    expect(verifyChain(chain)).toMatchObject({ ok: false, badIndex: 1 });
  });

  it('an appended forged entry with the right prevHash but a wrong entryHash is caught', () => {
    const chain = copy(buildChain());
    const forged = sealEntry({
      index: 4,
      prevHash: chain[3]!.entryHash,
      runId: 'run-abc',
      round: 4,
      modelHash: hex('model-4'),
      parentModelHash: chain[3]!.modelHash,
      participants: [],
      configHash: chain[3]!.configHash,
      metrics: {},
      createdAt: '2025-01-05T00:00:00.000Z',
      coordinatorKey: COORDINATOR.publicKey,
    }, COORDINATOR.secretKey);
    expect(verifyChain([...chain, forged])).toMatchObject({ ok: true, length: 5 }); // control
    const bad = { ...forged, entryHash: hex('anything') };
    expect(verifyChain([...chain, bad])).toMatchObject({ ok: false, badIndex: 4, length: 4 });
  });
});

describe('computeEntryHash', () => {
  const chain = buildChain();
  const { entryHash, coordinatorSignature, ...unsigned } = chain[2]!;

  it('is what sealEntry stored, and ignores the entryHash and coordinatorSignature fields', () => {
    expect(computeEntryHash({ ...chain[2]!, coordinatorSignature: SIG('other') } as UnsignedEntry)).toBe(entryHash);
    expect(coordinatorSignature).toMatch(/^[0-9a-f]{128}$/);
    expect(computeEntryHash(unsigned)).toBe(entryHash);
    expect(computeEntryHash(chain[2]!)).toBe(entryHash);
  });

  it('covers the conformal quantile when an entry has one, and leaves an entry without it hashed as before', () => {
    // chain[2] has no conformal field: its hash is that of the canonical JSON without the key (older chains verify).
    expect(unsigned.conformal).toBeUndefined();
    expect(computeEntryHash({ ...unsigned, conformal: undefined })).toBe(entryHash);
    const conformal = { kind: 'interval' as const, coverage: 0.9, quantile: 0.865, calibrationRows: 479, sites: 22 };
    const withQ = computeEntryHash({ ...unsigned, conformal });
    expect(withQ).not.toBe(entryHash);
    expect(computeEntryHash({ ...unsigned, conformal: { ...conformal, quantile: 0.5 } })).not.toBe(withQ);
    expect(computeEntryHash({ ...unsigned, conformal: { ...conformal, quantile: null } })).not.toBe(withQ);
  });

  it('covers children when an entry has them, and leaves an entry without them hashed as before', () => {
    const region = generateKeyPair();
    const head = signHead({ length: 5, headHash: hex('regional-4') }, region, '2025-01-03T00:00:00.000Z');
    const children = [{ siteId: 'site-a', head }];
    // No children: the hash of the canonical JSON with no `children` key at all.
    expect(unsigned.children).toBeUndefined();
    expect(computeEntryHash({ ...unsigned, children: undefined })).toBe(hex('fedrx/ledger-entry/v1\0' + canonicalJson(unsigned)));
    const withChildren = computeEntryHash({ ...unsigned, children });
    expect(withChildren).toBe(hex('fedrx/ledger-entry/v1\0' + canonicalJson({ ...unsigned, children })));
    expect(withChildren).not.toBe(entryHash);
    // An empty list is a section too, and every field of a head is inside the hash.
    expect(computeEntryHash({ ...unsigned, children: [] })).not.toBe(entryHash);
    for (const changed of [{ length: 6 }, { headHash: hex('other') }, { recordedAt: 'later' }, { coordinatorKey: OTHER_KEY.publicKey }, { signature: SIG('x') }]) {
      expect(computeEntryHash({ ...unsigned, children: [{ siteId: 'site-a', head: { ...head, ...changed } }] })).not.toBe(withChildren);
    }
    expect(computeEntryHash({ ...unsigned, children: [{ siteId: 'site-b', head }] })).not.toBe(withChildren);
  });

  it('a chain verifies with one child per participant, not with a child that is no participant or one named twice', () => {
    const head = signHead({ length: 2, headHash: hex('r') }, OTHER_KEY);
    const sealWith = (children: NonNullable<LedgerEntry['children']>): LedgerEntry[] => {
      const c = buildChain(3);
      const { entryHash: _h, coordinatorSignature: _s, ...u } = c[2]!;
      return [c[0]!, c[1]!, sealEntry({ ...u, children }, COORDINATOR.secretKey)];
    };
    expect(verifyChain(sealWith([{ siteId: 'site-a', head }, { siteId: 'site-b', head }])).ok).toBe(true);
    expect(verifyChain(sealWith([{ siteId: 'site-z', head }]))).toMatchObject({ ok: false, badIndex: 2, reason: 'children names site-z, which is not a participant' });
    expect(verifyChain(sealWith([{ siteId: 'site-a', head }, { siteId: 'site-a', head }]))).toMatchObject({ ok: false, badIndex: 2, reason: 'children names site-a twice' });
  });

  it('is domain separated: differs from plain SHA-256 of the canonical JSON', () => {
    const plain = createHash('sha256').update(canonicalJson(unsigned)).digest('hex');
    expect(entryHash).not.toBe(plain);
    const tagged = createHash('sha256')
      .update('fedrx/ledger-entry/v1\0' + canonicalJson(unsigned))
      .digest('hex');
    expect(entryHash).toBe(tagged);
  });

  it('does not depend on key order of the entry or its metrics', () => {
    const reordered: UnsignedEntry = {
      metrics: { evalMae: unsigned.metrics.evalMae!, trainLoss: unsigned.metrics.trainLoss! },
      createdAt: unsigned.createdAt,
      configHash: unsigned.configHash,
      coordinatorKey: unsigned.coordinatorKey,
      participants: unsigned.participants.map((p) => ({ signature: p.signature, updateHash: p.updateHash, numExamples: p.numExamples, siteId: p.siteId })),
      parentModelHash: unsigned.parentModelHash,
      modelHash: unsigned.modelHash,
      round: unsigned.round,
      runId: unsigned.runId,
      prevHash: unsigned.prevHash,
      index: unsigned.index,
    };
    expect(computeEntryHash(reordered)).toBe(entryHash);
  });
});

describe('hashConfig', () => {
  it('is key-order independent and value sensitive', () => {
    const a = hashConfig({ rounds: 3, training: { lr: 0.01, seed: 1 }, study: { name: 's' } });
    const b = hashConfig({ study: { name: 's' }, training: { seed: 1, lr: 0.01 }, rounds: 3 });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hashConfig({ rounds: 4, training: { lr: 0.01, seed: 1 }, study: { name: 's' } })).not.toBe(a);
    expect(a).not.toBe(createHash('sha256').update(canonicalJson({ rounds: 3, training: { lr: 0.01, seed: 1 }, study: { name: 's' } })).digest('hex'));
  });
});
