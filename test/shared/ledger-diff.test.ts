import { describe, expect, it } from 'vitest';
import { diffChains } from '../../shared/ledger-diff.js';
import type { LedgerEntry } from '../../shared/ledger.js';

const e = (index: number, hash: string, metrics: Record<string, number> = {}): LedgerEntry => ({ index, entryHash: hash.repeat(64), metrics } as LedgerEntry);

describe('diffChains', () => {
  it('finds the first entry that differs and names its differing fields', () => {
    const a = [e(0, 'a'), e(1, 'b', { mae: 8 }), e(2, 'c')];
    a[1]!.participants = [{ siteId: 's', numExamples: 1, updateHash: 'u', signature: 'g' }];
    const b = [e(0, 'a'), e(1, 'd', { mae: 7 }), e(2, 'f')];
    b[1]!.participants = [];
    expect(diffChains(a, b)).toEqual({
      leftLength: 3,
      rightLength: 3,
      commonPrefix: 1,
      consistent: false,
      firstDifference: {
        index: 1,
        fields: [
          { field: 'entryHash', left: 'b'.repeat(64), right: 'd'.repeat(64) },
          { field: 'metrics.mae', left: '8', right: '7' },
          { field: 'participants[0]', left: '{"siteId":"s","numExamples":1,"updateHash":"u","signature":"g"}', right: 'undefined' },
        ],
      },
    });
  });

  it('a chain that is only behind agrees', () => {
    const a = [e(0, 'a'), e(1, 'b')];
    expect(diffChains(a.slice(0, 1), a)).toMatchObject({ commonPrefix: 1, firstDifference: null, consistent: true, leftLength: 1, rightLength: 2 });
    expect(diffChains([], [])).toMatchObject({ commonPrefix: 0, consistent: true });
  });

  it('an entry edited without recomputing its hash is a difference, not the same chain', () => {
    const a = [e(0, 'a', { mae: 8 }), e(1, 'b')];
    const b = [e(0, 'a', { mae: 6.5 }), e(1, 'b')];
    expect(diffChains(a, b)).toEqual({
      leftLength: 2,
      rightLength: 2,
      commonPrefix: 0,
      consistent: false,
      firstDifference: { index: 0, fields: [{ field: 'metrics.mae', left: '8', right: '6.5' }] },
    });
  });
});
