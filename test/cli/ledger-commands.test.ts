// `fedrx ledger verify --db` on a database an attacker has edited behind the triggers or cut short:
// a deleted tail is named by the tables that still point at it and by the signed head file; a file
// that is no database at all exits 2 with a plain message.

import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildCoordinator } from '../../coordinator/app.js';
import { EXIT_BROKEN, EXIT_INTACT, diffLedger, verifyDb, verifyReplica } from '../../cli/ledger-commands.js';
import { signHead } from '../../shared/ledger-head.js';
import { FEDRX_BIN } from '../../cli/spawn.js';
import { headFileOf } from '../../coordinator/store/head-file.js';
import { Replica } from '../../site-agent/replica.js';
import { LEDGER_KEY, signedLedger } from '../helpers/signed-ledger.js';
import { tempDir } from '../helpers/temp.js';

let printed: string[] = [];
beforeEach(() => {
  printed = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
});
afterEach(() => vi.restoreAllMocks());
const output = (): string => printed.join('\n');

/** What an attacker with the database file (not the key) does: drop the trigger, delete rows. */
function sql(file: string, ...statements: string[]): void {
  const db = new Database(file);
  db.pragma('foreign_keys = OFF'); // endorsements name ledger rows: the attacker turns that check off first
  for (const s of statements) db.exec(s);
  db.close();
}

describe('ledger verify --db, a deleted tail', () => {
  it('is named by the rounds, endorsements, models and audit log that point at it, and by the head file', async () => {
    const dir = tempDir('verify-tail');
    const file = join(dir, 'c.sqlite');
    const { store, entries } = signedLedger(file, 3);
    const last = entries[3]!;
    store.db
      .prepare(`INSERT INTO prediction_audit (at, token_id, role, route, run_id, round, model_hash, ledger_index, rows, input_hash) VALUES ('t', 'tok', 'clinician', '/v1/predict', ?, ?, ?, ?, 1, ?)`)
      .run(last.runId, last.round, last.modelHash, last.index, 'f'.repeat(64));
    store.db.close();
    expect(verifyDb(file)).toBe(EXIT_INTACT);
    expect(output()).toMatch(/ledger intact: 4 entries/);

    sql(file, 'DROP TRIGGER ledger_no_delete', 'DELETE FROM ledger WHERE idx = 3');
    printed = [];
    expect(verifyDb(file)).toBe(EXIT_BROKEN);
    const text = output();
    expect(text).toMatch(/ledger BROKEN at entry 3: /);
    expect(text).toContain(`the rounds table records run ${last.runId} round 3 as committed at entry 3, which the ledger lacks`);
    expect(text).toContain('2 endorsement(s) of entry 3 are stored, but the ledger lacks the entry');
    expect(text).toContain(`model ${last.modelHash.slice(0, 12)} of run ${last.runId} round 3 is stored, but no ledger entry commits it`);
    expect(text).toContain('the prediction audit log has 1 prediction(s) served from entry 3, which the ledger lacks');
    expect(text).toMatch(/says the ledger had 4 entries, head [0-9a-f]{12}; only 3 are here: entries 3\.\.3 are missing/);

    // A thorough attacker also cleans every table that points at the entry: the signed head file remains.
    sql(file, 'DROP TRIGGER endorsements_no_delete', 'DROP TRIGGER prediction_audit_no_delete',
      'DELETE FROM endorsements WHERE entry_index = 3', 'DELETE FROM prediction_audit', 'DELETE FROM rounds WHERE round = 3', `DELETE FROM models WHERE round = 3`);
    printed = [];
    expect(verifyDb(file)).toBe(EXIT_BROKEN);
    expect(output()).toMatch(/ledger BROKEN at entry 3: head file .*c\.sqlite\.head\.json .*only 3 are here/);
    // ...and the coordinator refuses to start on it.
    await expect(buildCoordinator({ db: file, signer: LEDGER_KEY, log: () => {}, auditKey: new Uint8Array(32) })).rejects.toMatchObject({ code: 'E_LEDGER_BROKEN' });

    // A head file cut short is reported; deleting it is too.
    writeFileSync(headFileOf(file)!, '{"length": 4, "headHa');
    printed = [];
    expect(verifyDb(file)).toBe(EXIT_BROKEN);
    expect(output()).toMatch(/^ledger BROKEN: head file .*c\.sqlite\.head\.json is not valid JSON \(E_LEDGER_BROKEN\)$/);
    rmSync(headFileOf(file)!);
    printed = [];
    expect(verifyDb(file)).toBe(EXIT_BROKEN);
    expect(output()).toMatch(/ledger BROKEN at entry 3: no signed head file at .*a deleted tail cannot be ruled out/);
  });

  it('behind an older head file is not seen on the host, but a site replica catches it with ledger diff', async () => {
    const dir = tempDir('verify-rollback');
    const file = join(dir, 'c.sqlite');
    const { store, entries } = signedLedger(file, 2);
    copyFileSync(headFileOf(file)!, join(dir, 'old-head.json'));
    const third = signedLedger(file, 0, { siteIds: ['site-c'] }); // a second run: its round 0 is entry 3
    const all = [...entries, ...third.entries];
    third.store.db.close();
    store.db.close();
    const replicaDir = join(dir, 'replica');
    const replica = await Replica.open(replicaDir, { coordinatorKey: LEDGER_KEY.publicKey });
    await replica.append(all);

    // The operator deletes the newest entry with everything that names it, and puts back the head file signed before it.
    sql(file, 'DROP TRIGGER ledger_no_delete', 'DROP TRIGGER endorsements_no_delete', 'DELETE FROM ledger WHERE idx = 3',
      'DELETE FROM endorsements WHERE entry_index = 3', 'DELETE FROM rounds WHERE ledger_index = 3', `DELETE FROM models WHERE hash = '${all[3]!.modelHash}'`);
    copyFileSync(join(dir, 'old-head.json'), headFileOf(file)!);
    expect(verifyDb(file)).toBe(EXIT_INTACT); // what the coordinator's host alone cannot tell
    printed = [];
    expect(await diffLedger({ replica: replicaDir, db: file })).toBe(1);
    expect(output()).toMatch(/the coordinator holds fewer entries than the replica/);

    // A replica that lags (3 entries) still caught the cut: it kept the head of 4 the coordinator signed at its welcome.
    const laggingDir = join(dir, 'lagging');
    const lagging = await Replica.open(laggingDir, { coordinatorKey: LEDGER_KEY.publicKey });
    await lagging.append(all.slice(0, 3));
    await lagging.recordCoordinatorHead(signHead({ length: 4, headHash: all[3]!.entryHash }, LEDGER_KEY));
    printed = [];
    expect(await verifyReplica(laggingDir)).toBe(EXIT_INTACT);
    expect(output()).toMatch(/coordinator's signed head, kept .*: 4 entries, head [0-9a-f]{64} \(this replica is behind it\)/);
    printed = [];
    expect(await diffLedger({ replica: laggingDir, db: file })).toBe(1);
    expect(output()).toMatch(/COORDINATOR CONTRADICTS ITS SIGNED HEAD at entry 3: .*says the ledger had 4 entries.*only 3 are here/);
  });
});

describe('ledger verify --db, a file that is not a database', () => {
  const fedrx = (args: string[]) => spawnSync(process.execPath, [FEDRX_BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

  it('exits 2 with a plain message for a truncated file and for garbage', () => {
    const dir = tempDir('verify-corrupt');
    const file = join(dir, 'c.sqlite');
    const { store } = signedLedger(file, 30);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.db.close();
    truncateSync(file, Math.floor(statSync(file).size / 2));
    expect(verifyDb(file)).toBe(EXIT_BROKEN);
    expect(output()).toMatch(/^ledger BROKEN: .*c\.sqlite is truncated or corrupt .*\(E_DB_CORRUPT\)$/);

    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, Buffer.alloc(8192, 'not a database '));
    const out = fedrx(['ledger', 'verify', '--db', garbage]);
    expect(out.status, out.stdout + out.stderr).toBe(2);
    expect(out.stdout).toMatch(/ledger BROKEN: .*garbage\.sqlite is not a SQLite database \(E_DB_CORRUPT\)/);
    expect(out.stdout + out.stderr).not.toMatch(/SqliteError|at .*\.ts:\d+/);
  });
});
