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

  it('rebuilds a runs table whose status CHECK predates cancelling, keeping runs and the keys that name them', () => {
    const file = join(tempDir('db'), 'before-cancel.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE runs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, config_json TEXT NOT NULL, config_hash TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued','running','completed','failed')), error TEXT, preprocessing_json TEXT,
      best_round INTEGER, stop_reason TEXT, created_at TEXT NOT NULL, started_at TEXT, ended_at TEXT);
      CREATE TABLE models (hash TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), round INTEGER NOT NULL, frame BLOB NOT NULL, created_at TEXT NOT NULL);`);
    old.prepare(`INSERT INTO runs (id, seq, config_json, config_hash, status, best_round, created_at) VALUES ('run-00000001', 1, '{}', 'h', 'queued', 2, 't')`).run();
    old.prepare(`INSERT INTO models VALUES ('m', 'run-00000001', 1, x'00', 't')`).run();
    expect(() => old.prepare(`UPDATE runs SET status = 'cancelled'`).run()).toThrow(/CHECK constraint/);
    old.close();

    const db = openDb(file);
    const store = new Store(db);
    expect(store.cancelRun('run-00000001', 'admin ops')).toBe('cancelled');
    expect(store.getRun('run-00000001')).toMatchObject({ seq: 1, configHash: 'h', status: 'cancelled', bestRound: 2, cancelRequestedBy: 'admin ops' });
    expect(() => db.prepare(`UPDATE runs SET status = 'paused'`).run()).toThrow(/CHECK constraint/);
    // The models table still refers to runs(id): a model of no run is refused.
    expect(() => db.prepare(`INSERT INTO models VALUES ('m2', 'run-99999999', 1, x'00', 't')`).run()).toThrow(/FOREIGN KEY/);
    expect(db.prepare('SELECT run_id FROM models').all()).toEqual([{ run_id: 'run-00000001' }]);
    db.close();
    openDb(file).close();
  });
});
