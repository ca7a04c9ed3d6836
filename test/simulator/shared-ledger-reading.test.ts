import { describe, expect, it } from 'vitest';
import { sharedEntryPool, sharedMessageParser } from '../../simulator/shared-ledger-reading.js';
import type { LedgerEntry } from '../../shared/ledger.js';

describe("a pool's shared reading of the ledger", () => {
  it('parses a ledger message once for every site that receives the same text, other messages each time', () => {
    const parse = sharedMessageParser();
    const text = JSON.stringify({ type: 'ledger-entries', v: 1, entries: [] });
    const a = parse(text);
    expect(parse(`${text}`)).toBe(a);
    expect(parse(JSON.stringify({ type: 'ledger-entries', v: 1, entries: [] }).replace('[]', '[ ]'))).not.toBe(a);
    const other = JSON.stringify({ type: 'endorsement-request', v: 1, indexes: [0] });
    expect(parse(other)).not.toBe(parse(other));
  });

  it('refuses a malformed ledger message for each site, never remembering it', () => {
    const parse = sharedMessageParser();
    const bad = '{"type":"ledger-entries","v":1,"entries":7}';
    expect(() => parse(bad)).toThrow();
    expect(() => parse(bad)).toThrow();
  });

  it('computes an answer once per object and key, and does not remember a throw', () => {
    const pool = sharedEntryPool();
    const of = {};
    let calls = 0;
    expect(pool.once(of, 'k', () => ++calls)).toBe(1);
    expect(pool.once(of, 'k', () => ++calls)).toBe(1);
    expect(pool.once(of, 'other', () => ++calls)).toBe(2);
    expect(pool.once({}, 'k', () => ++calls)).toBe(3);
    expect(() => pool.once(of, 'bad', () => { throw new Error('no'); })).toThrow('no');
    expect(pool.once(of, 'bad', () => 'fine')).toBe('fine');
  });

  it('holds one copy of each entry, by its hash', () => {
    const pool = sharedEntryPool();
    const first = { entryHash: 'a'.repeat(64), index: 0 } as LedgerEntry;
    const copy = { ...first };
    expect(pool.intern(first)).toBe(first);
    expect(pool.intern(copy)).toBe(first);
    const next = { ...first, entryHash: 'b'.repeat(64) };
    expect(pool.intern(next)).toBe(next);
  });
});
