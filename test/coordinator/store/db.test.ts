import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../coordinator/store/db.js';
import { Store } from '../../../coordinator/store/store.js';
import { tempDir } from '../../helpers/temp.js';

describe('openDb', () => {
  it('gives a database from before best rounds the new run columns, keeping its runs', () => {
    const file = join(tempDir('db'), 'old.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE runs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, config_json TEXT NOT NULL, config_hash TEXT NOT NULL,
      status TEXT NOT NULL, error TEXT, preprocessing_json TEXT, created_at TEXT NOT NULL, started_at TEXT, ended_at TEXT)`);
    old.prepare(`INSERT INTO runs (id, seq, config_json, config_hash, status, created_at) VALUES ('run-00000001', 1, '{}', 'h', 'completed', 't')`).run();
    old.close();
    // Read-only (no migration): the run reads with both fields null.
    const ro = openDb(file, { readonly: true });
    expect(new Store(ro).getRun('run-00000001')).toMatchObject({ status: 'completed', bestRound: null, stopReason: null });
    ro.close();
    const db = openDb(file);
    const columns = (db.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(['best_round', 'stop_reason']));
    const store = new Store(db);
    store.setBestRound('run-00000001', 3);
    expect(store.getRun('run-00000001')).toMatchObject({ status: 'completed', bestRound: 3, stopReason: null });
    db.close();
    // Opening again does not try to add them twice.
    openDb(file).close();
  });
});
