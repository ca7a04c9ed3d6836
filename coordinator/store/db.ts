// Opens the coordinator's SQLite file (WAL) and brings its schema up to date.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FedrxError } from '../../shared/errors.js';
import { ROLES } from '../../shared/roles.js';
import { BUDGET_SCHEMA } from './privacy-budgets.js';
import { MODEL_PARTS_SCHEMA } from './model-frames.js';
import { RUN_STATUSES } from './run-status.js';

export type Db = Database.Database;

const RUN_STATUS_LIST = RUN_STATUSES.map((s) => `'${s}'`).join(',');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sites (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  last_seen_at TEXT,
  revoked_at TEXT
);
-- Every key a site ever had, so signatures made before a re-key still verify; one is current.
CREATE TABLE IF NOT EXISTS site_keys (
  site_id TEXT NOT NULL REFERENCES sites(id),
  public_key TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  retired_at TEXT,
  PRIMARY KEY (site_id, public_key)
);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  config_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN (${RUN_STATUS_LIST})),
  error TEXT,
  preprocessing_json TEXT,
  best_round INTEGER,
  stop_reason TEXT,
  -- Set when a running run is asked to stop (POST /v1/runs/:id/cancel); the runner then ends it.
  cancel_requested_at TEXT,
  cancel_requested_by TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT
);
CREATE TABLE IF NOT EXISTS models (
  hash TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  frame BLOB NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('committed','failed')),
  model_hash TEXT,
  metrics_json TEXT NOT NULL,
  error TEXT,
  ledger_index INTEGER,
  started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL,
  PRIMARY KEY (run_id, round)
);
-- What a run needs to continue after its last committed round, written in that round's transaction:
-- the loop's own progress (JSON) and the strategy's state (a tensor frame, e.g. FedAdam's moments).
CREATE TABLE IF NOT EXISTS run_state (
  run_id TEXT PRIMARY KEY REFERENCES runs(id),
  round INTEGER NOT NULL,
  progress_json TEXT NOT NULL,
  strategy_frame BLOB
);
CREATE TABLE IF NOT EXISTS round_sites (
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted','rejected','missing','failed')),
  code TEXT,
  reason TEXT,
  num_examples INTEGER,
  update_hash TEXT,
  train_loss REAL,
  eval_examples INTEGER,
  eval_loss REAL,
  eval_metric REAL,
  PRIMARY KEY (run_id, round, site_id)
);
CREATE TABLE IF NOT EXISTS ledger (
  idx INTEGER PRIMARY KEY,
  prev_hash TEXT NOT NULL,
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  model_hash TEXT NOT NULL,
  parent_model_hash TEXT,
  participants_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  preprocessing_hash TEXT,
  metrics_json TEXT NOT NULL,
  privacy_json TEXT,
  secure_json TEXT,
  robust_json TEXT,
  conformal_json TEXT,
  simulation_json TEXT,
  children_json TEXT,
  created_at TEXT NOT NULL,
  coordinator_key TEXT NOT NULL,
  entry_hash TEXT NOT NULL UNIQUE,
  coordinator_signature TEXT NOT NULL
);
-- Beside the entries, not inside their hashes: a participant's signature over an entry hash.
CREATE TABLE IF NOT EXISTS endorsements (
  entry_index INTEGER NOT NULL REFERENCES ledger(idx),
  site_id TEXT NOT NULL,
  entry_hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (entry_index, site_id)
);
-- What sites said when they refused an entry or the chain.
CREATE TABLE IF NOT EXISTS disputes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL,
  entry_index INTEGER NOT NULL,
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'E_LEDGER_APPEND_ONLY: ledger rows cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'E_LEDGER_APPEND_ONLY: ledger rows cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS endorsements_no_update BEFORE UPDATE ON endorsements
  BEGIN SELECT RAISE(ABORT, 'E_LEDGER_APPEND_ONLY: endorsements cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS endorsements_no_delete BEFORE DELETE ON endorsements
  BEGIN SELECT RAISE(ABORT, 'E_LEDGER_APPEND_ONLY: endorsements cannot be deleted'); END;
`;

// ---- API callers: tokens by role (token-store.ts) and the prediction audit log (audit-log.ts) ----
const TRUST_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN (${ROLES.map((r) => `'${r}'`).join(',')})),
  token_hash TEXT NOT NULL UNIQUE,
  label TEXT,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS prediction_audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  token_id TEXT NOT NULL,
  role TEXT NOT NULL,
  route TEXT NOT NULL,
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  model_hash TEXT NOT NULL,
  ledger_index INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  input_hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS prediction_audit_no_update BEFORE UPDATE ON prediction_audit
  BEGIN SELECT RAISE(ABORT, 'append-only: prediction audit rows cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS prediction_audit_no_delete BEFORE DELETE ON prediction_audit
  BEGIN SELECT RAISE(ABORT, 'append-only: prediction audit rows cannot be deleted'); END;
`;

export function openDb(file: string, opts: { readonly?: boolean } = {}): Db {
  if (file !== ':memory:' && !opts.readonly) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  try {
    applySchema(db, opts);
  } catch (e) {
    db.close();
    throw asDbCorrupt(e, file);
  }
  return db;
}

/**
 * SQLite's own words for a file that is not (or no longer) a database, as a plain coded error;
 * any other error is returned as it is. SQLite only finds out when it first reads a page, so
 * callers that read later wrap their reads too.
 */
export function asDbCorrupt(e: unknown, file: string): unknown {
  const code = (e as { code?: unknown }).code;
  if (code !== 'SQLITE_NOTADB' && !(typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) return e;
  const what = code === 'SQLITE_NOTADB' ? 'is not a SQLite database' : 'is truncated or corrupt (the database disk image is malformed)';
  return new FedrxError('E_DB_CORRUPT', `${file} ${what}`);
}

function applySchema(db: Db, opts: { readonly?: boolean }): void {
  // First, so that even the schema statements wait for a CLI command writing at the same moment.
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    toWal(db);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    db.exec(MODEL_PARTS_SCHEMA);
    addMissingColumns(db, 'runs', { best_round: 'INTEGER', stop_reason: 'TEXT', cancel_requested_at: 'TEXT', cancel_requested_by: 'TEXT' });
    addMissingColumns(db, 'ledger', { secure_json: 'TEXT', robust_json: 'TEXT', privacy_json: 'TEXT', conformal_json: 'TEXT', simulation_json: 'TEXT', children_json: 'TEXT' });
    widenRunStatuses(db);
    db.exec(TRUST_SCHEMA);
    db.exec(BUDGET_SCHEMA);
  }
}

/** Columns added after a table was first made: a database from an older version gains them, empty. */
function addMissingColumns(db: Db, table: string, columns: Record<string, string>): void {
  const have = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  for (const [name, type] of Object.entries(columns)) {
    if (have.has(name)) continue;
    try {
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
    } catch (e) {
      // Another process opening the same database (admin commands run side by side) added it first.
      if (!/duplicate column name/.test((e as Error).message)) throw e;
    }
  }
}

/**
 * A runs table made before runs could be cancelled refuses the status in its CHECK, and SQLite
 * cannot alter a CHECK: the table is copied into one made with today's list, in one transaction.
 */
function widenRunStatuses(db: Db): void {
  const { sql } = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).get() as { sql: string };
  const check = /CHECK \(status IN \(([^)]*)\)\)/.exec(sql);
  if (check === null || RUN_STATUSES.every((s) => check[1]!.includes(`'${s}'`))) return;
  const widened = sql
    .replace(check[0], `CHECK (status IN (${RUN_STATUS_LIST}))`)
    .replace(/^CREATE TABLE (IF NOT EXISTS )?"?runs"?/, 'CREATE TABLE runs_widened');
  // Models and rounds name runs(id): the keys stay the same, so their references hold across the swap.
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      db.exec(widened);
      db.exec('INSERT INTO runs_widened SELECT * FROM runs; DROP TABLE runs; ALTER TABLE runs_widened RENAME TO runs;');
      if ((db.pragma('foreign_key_check') as unknown[]).length > 0) throw new Error('runs migration broke a foreign key');
    })();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

/**
 * Switching a new file to WAL takes an exclusive lock, and when two connections race for it SQLite
 * answers SQLITE_BUSY at once, without the busy handler (e.g. `fedrx site register` for several
 * sites at the same moment): retry for as long as busy_timeout would have waited.
 */
function toWal(db: Db): void {
  const until = Date.now() + 5000;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > until) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
