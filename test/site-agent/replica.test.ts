import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GENESIS_PREV_HASH, sealEntry, type LedgerEntry } from '../../shared/ledger.js';
import { Replica, REPLICA_FILE } from '../../site-agent/replica.js';
import { generateKeyPair } from '../../shared/signing.js';
import { signHead } from '../../shared/ledger-head.js';
import { auditReplica } from '../../site-agent/replica-audit.js';
import { tempDir, type TempDir } from './helpers.js';

const hex = (c: string): string => c.repeat(64);
const COORD = generateKeyPair();

/** A valid chain of `n` entries, or entries continuing `after`. */
function chain(n: number, after: LedgerEntry | null = null, runId = 'run-1', key = COORD): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  let prev = after;
  for (let i = 0; i < n; i++) {
    const index = prev === null ? 0 : prev.index + 1;
    const entry = sealEntry({
      index,
      prevHash: prev === null ? GENESIS_PREV_HASH : prev.entryHash,
      runId,
      round: index,
      modelHash: hex((index % 10).toString()),
      parentModelHash: index === 0 ? null : hex(((index - 1) % 10).toString()),
      participants: [{ siteId: 'site-a', numExamples: 40 + index, updateHash: hex('a'), signature: hex('d') + hex('e') }],
      configHash: hex('c'),
      metrics: { loss: 1 / (index + 1) },
      createdAt: `2025-01-0${(index % 9) + 1}T00:00:00.000Z`,
      coordinatorKey: key.publicKey,
    }, key.secretKey);
    out.push(entry);
    prev = entry;
  }
  return out;
}

let tmp: TempDir | undefined;
const dir = (): TempDir => (tmp ??= tempDir('fedrx-replica-'));
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});
const fileOf = (d: string): string => path.join(d, REPLICA_FILE);

describe('Replica', () => {
  it('starts empty at the genesis hash', async () => {
    const r = await Replica.open(path.join(dir().dir, 'nested', 'replica'));
    expect(r.head()).toEqual({ length: 0, headHash: GENESIS_PREV_HASH });
    expect(r.entries()).toEqual([]);
  });

  it('appends valid entries as JSON lines and moves its head', async () => {
    const d = dir().dir;
    const r = await Replica.open(d);
    const entries = chain(5);
    expect(await r.append(entries.slice(0, 3))).toHaveLength(3);
    expect(await r.append(entries.slice(3))).toHaveLength(2);
    expect(r.head()).toEqual({ length: 5, headHash: entries[4]!.entryHash });
    expect(r.entries()).toEqual(entries);
    const lines = readFileSync(fileOf(d), 'utf8').split('\n');
    expect(lines).toHaveLength(6); // five lines and the final newline
    expect(JSON.parse(lines[2]!)).toEqual(entries[2]);
  });

  it('skips entries it already holds (a coordinator re-sending is harmless)', async () => {
    const d = dir().dir;
    const r = await Replica.open(d);
    const entries = chain(4);
    await r.append(entries.slice(0, 2));
    expect(await r.append(entries)).toHaveLength(2); // 0 and 1 again, then 2 and 3
    expect(await r.append(entries)).toHaveLength(0);
    expect(r.head().length).toBe(4);
    expect(readFileSync(fileOf(d), 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('refuses an entry with a wrong prevHash and writes nothing of its batch', async () => {
    const d = dir().dir;
    const r = await Replica.open(d);
    const entries = chain(3);
    await r.append(entries.slice(0, 2));
    const before = readFileSync(fileOf(d));
    // Entry 2 is valid; entry 3 is sealed (its own hash is right) but links to the wrong parent.
    const bad = sealEntry({ ...chain(1, entries[2]!)[0]!, prevHash: hex('f') }, COORD.secretKey);
    await expect(r.append([entries[2]!, bad])).rejects.toMatchObject({
      code: 'E_REPLICA_DIVERGED',
      details: { kind: 'bad-link', index: 3 },
    });
    expect(readFileSync(fileOf(d)).equals(before)).toBe(true);
    expect(r.head()).toEqual({ length: 2, headHash: entries[1]!.entryHash });
    // The replica still works afterwards.
    expect(await r.append([entries[2]!])).toHaveLength(1);
  });

  it('refuses a chain that rewrites an entry it holds, and one that skips ahead', async () => {
    const r = await Replica.open(dir().dir);
    const entries = chain(3);
    await r.append(entries);
    const forked = chain(3, null, 'other-run');
    await expect(r.append(forked)).rejects.toMatchObject({ code: 'E_REPLICA_DIVERGED', details: { kind: 'rewrite', index: 0 } });
    const tampered = { ...entries[1]!, metrics: { loss: 0.001 } };
    await expect(r.append([tampered])).rejects.toThrow(/entry 1 differs/);
    const ahead = chain(3, entries[2]!).slice(1);
    await expect(r.append(ahead)).rejects.toMatchObject({ code: 'E_REPLICA_DIVERGED', details: { kind: 'gap', index: 4 } });
    expect(r.head().length).toBe(3);
  });

  it('refuses an entry whose hash does not match its contents', async () => {
    const r = await Replica.open(dir().dir);
    const [e0] = chain(1);
    await expect(r.append([{ ...e0!, round: 7 }])).rejects.toThrow(/entryHash does not match/);
    await expect(r.append([{ ...e0!, extra: 1 }])).rejects.toMatchObject({ code: 'E_BAD_MESSAGE' });
    expect(r.head().length).toBe(0);
  });

  it('re-verifies the file when reopened', async () => {
    const d = dir().dir;
    const entries = chain(6);
    const r1 = await Replica.open(d);
    await r1.append(entries);
    const r2 = await Replica.open(d);
    expect(r2.head()).toEqual(r1.head());
    expect(r2.entries()).toEqual(entries);
    expect(await r2.append(chain(1, entries[5]!))).toHaveLength(1);
    expect((await Replica.open(d)).head().length).toBe(7);
  });

  it('refuses to open a file with one flipped byte, naming the bad index', async () => {
    const d = dir().dir;
    await (await Replica.open(d)).append(chain(5));
    const bytes = readFileSync(fileOf(d));
    // Flip the lowest bit of a digit in entry 3's createdAt: still valid JSON, no longer the hashed entry.
    const line3 = bytes.indexOf('\n', bytes.indexOf('\n', bytes.indexOf('\n') + 1) + 1) + 1;
    const at = bytes.indexOf('"createdAt":"2025', line3) + '"createdAt":"'.length + 3;
    const flipped = Buffer.from(bytes);
    flipped[at] = flipped[at]! ^ 1;
    writeFileSync(fileOf(d), flipped);
    await expect(Replica.open(d)).rejects.toMatchObject({ code: 'E_LEDGER_BROKEN', details: { badIndex: 3 } });
    await expect(Replica.open(d)).rejects.toThrow(/at index 3: entryHash does not match/);
    // A flip that breaks the JSON of entry 1 is named just as precisely.
    const broken = Buffer.from(bytes);
    broken[bytes.indexOf('\n') + 1] = '['.charCodeAt(0);
    writeFileSync(fileOf(d), broken);
    await expect(Replica.open(d)).rejects.toThrow(/index 1 is not valid JSON/);
  });

  it('pins the coordinator key of its first entries and refuses entries signed by another key', async () => {
    const d = dir().dir;
    const r = await Replica.open(d);
    const entries = chain(2);
    await r.append(entries);
    expect(r.coordinatorKey()).toBe(COORD.publicKey);
    expect(JSON.parse(readFileSync(path.join(d, 'replica.json'), 'utf8'))).toMatchObject({ coordinatorKey: COORD.publicKey });
    // A validly hashed and signed continuation, but by another coordinator key.
    const impostor = chain(1, entries[1]!, 'run-1', generateKeyPair());
    await expect(r.append(impostor)).rejects.toMatchObject({ code: 'E_REPLICA_DIVERGED', details: { kind: 'foreign-key', index: 2 } });
    expect(r.head().length).toBe(2);
    await expect(Replica.open(d, { coordinatorKey: generateKeyPair().publicKey })).rejects.toMatchObject({ code: 'E_COORDINATOR_KEY' });
    expect((await Replica.open(d, { coordinatorKey: COORD.publicKey })).head().length).toBe(2);
  });

  it('refuses to open a replica whose entry hash was tampered with, and the audit names the index', async () => {
    const d = dir().dir;
    await (await Replica.open(d)).append(chain(4));
    const lines = readFileSync(fileOf(d), 'utf8').split('\n');
    const e2 = JSON.parse(lines[2]!) as LedgerEntry;
    lines[2] = JSON.stringify({ ...e2, entryHash: hex('9') });
    writeFileSync(fileOf(d), lines.join('\n'));
    await expect(Replica.open(d)).rejects.toMatchObject({ code: 'E_LEDGER_BROKEN', details: { badIndex: 2 } });
    const audit = await auditReplica(d);
    expect(audit).toMatchObject({ ok: false, firstBad: { index: 2 } });
    expect(audit.firstBad!.reason).toMatch(/entryHash does not match/);
  });
});

describe('Replica: the coordinator head it signed', () => {
  it('keeps the longest head signed with the pinned key, and refuses a shorter or rewritten one', async () => {
    const d = path.join(dir().dir, 'r');
    const r = await Replica.open(d, { coordinatorKey: COORD.publicKey });
    const c = chain(3);
    await r.recordCoordinatorHead(signHead({ length: 3, headHash: c[2]!.entryHash }, COORD));
    await r.recordCoordinatorHead(signHead({ length: 2, headHash: c[1]!.entryHash }, COORD)).then(
      () => expect.unreachable('a shorter head was kept'),
      (e: unknown) => expect(e).toMatchObject({ code: 'E_REPLICA_DIVERGED', message: expect.stringMatching(/has 2 entries, but it signed a head of 3 entries/) }),
    );
    await expect(r.recordCoordinatorHead(signHead({ length: 3, headHash: hex('9') }, COORD))).rejects.toMatchObject({ code: 'E_REPLICA_DIVERGED' });
    await expect(r.recordCoordinatorHead(signHead({ length: 9, headHash: hex('9') }, generateKeyPair()))).rejects.toMatchObject({ code: 'E_COORDINATOR_KEY' });
    // Kept on disk, across a reopen.
    const again = await Replica.open(d);
    expect(again.coordinatorHead()).toMatchObject({ length: 3, headHash: c[2]!.entryHash });
  });
});

