import { describe, expect, it } from 'vitest';
import { endorsementStatus, requiredEndorsements } from '../../shared/endorsement.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import { endorsementBody, generateKeyPair, sign } from '../../shared/signing.js';

const keys = { a: generateKeyPair(), b: generateKeyPair(), c: generateKeyPair(), x: generateKeyPair() };
const keysOf = (site: string): string[] => {
  const k = keys[site.slice(-1) as keyof typeof keys];
  return k === undefined ? [] : [k.publicKey];
};
const entry = {
  index: 4,
  entryHash: 'e'.repeat(64),
  participants: ['site-a', 'site-b', 'site-c'].map((siteId) => ({ siteId, numExamples: 1, updateHash: '0'.repeat(64), signature: '0'.repeat(128) })),
} as LedgerEntry;
const claim = (site: 'a' | 'b' | 'c' | 'x', over: { entryHash?: string; index?: number; signer?: 'a' | 'b' | 'c' | 'x' } = {}) => ({
  siteId: `site-${site}`,
  entryHash: over.entryHash ?? entry.entryHash,
  signature: sign('endorsement', endorsementBody(`site-${site}`, over.index ?? 4, entry.entryHash), keys[over.signer ?? site].secretKey),
});

describe('endorsement quorum', () => {
  it('needs ceil(quorum × participants), at least one, at most all', () => {
    expect([1, 2, 3, 4, 5, 22].map((n) => requiredEndorsements(0.5, n))).toEqual([1, 1, 2, 2, 3, 11]);
    expect([1, 3, 4].map((n) => requiredEndorsements(1, n))).toEqual([1, 3, 4]);
    expect(requiredEndorsements(0.01, 3)).toBe(1);
    expect(requiredEndorsements(2 / 3, 3)).toBe(2);
    expect(requiredEndorsements(0.5, 0)).toBe(0);
  });

  it('counts only valid endorsements by participants over this entry hash', () => {
    const s = endorsementStatus(
      entry,
      [claim('a'), claim('b', { entryHash: 'f'.repeat(64) }), claim('c', { signer: 'a' }), claim('x'), claim('a', { index: 5 })],
      0.5,
      keysOf,
    );
    expect(s).toMatchObject({ index: 4, participants: 3, required: 2, endorsedBy: ['site-a'], endorsed: false });
    expect(s.invalid.map((i) => [i.siteId, i.reason])).toEqual([
      ['site-b', 'endorses another entry hash'],
      ['site-c', "signature does not verify under the site's keys"],
      ['site-x', 'not a participant of this entry'],
      ['site-a', "signature does not verify under the site's keys"],
    ]);
    expect(endorsementStatus(entry, [claim('a'), claim('c')], 0.5, keysOf)).toMatchObject({ endorsedBy: ['site-a', 'site-c'], endorsed: true, invalid: [] });
    expect(endorsementStatus({ ...entry, participants: [] }, [], 0.5, keysOf).endorsed).toBe(false);
  });
});
