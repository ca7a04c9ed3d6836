// The coordinator's ledger table: append (inside the caller's transaction), read, verify.
// SQLite triggers refuse UPDATE and DELETE; verification recomputes every hash, so an edit made
// by bypassing the triggers is still caught and named by index.

import { FedrxError } from '../../shared/errors.js';
import type { KeyPair } from '../../shared/signing.js';
import { GENESIS_PREV_HASH, sealEntry, verifyChain, type ChainCheck, type LedgerEntry, type UnsignedEntry } from '../../shared/ledger.js';
import type { Db } from './db.js';

interface LedgerRow {
  idx: number;
  prev_hash: string;
  run_id: string;
  round: number;
  model_hash: string;
  parent_model_hash: string | null;
  participants_json: string;
  config_hash: string;
  preprocessing_hash: string | null;
  secure_json: string | null;
  robust_json: string | null;
  metrics_json: string;
  /** Absent from a database made before DP existed and opened read-only (not migrated). */
  privacy_json?: string | null;
  /** Absent from a database made before intervals existed and opened read-only (not migrated). */
  conformal_json?: string | null;
  /** Absent from a database made before simulations existed and opened read-only (not migrated). */
  simulation_json?: string | null;
  /** Absent from a database made before hierarchies existed and opened read-only (not migrated). */
  children_json?: string | null;
  created_at: string;
  coordinator_key: string;
  entry_hash: string;
  coordinator_signature: string;
}

function fromRow(r: LedgerRow): LedgerEntry {
  return {
    index: r.idx,
    prevHash: r.prev_hash,
    runId: r.run_id,
    round: r.round,
    modelHash: r.model_hash,
    parentModelHash: r.parent_model_hash,
    participants: JSON.parse(r.participants_json) as LedgerEntry['participants'],
    configHash: r.config_hash,
    ...(r.preprocessing_hash === null ? {} : { preprocessingHash: r.preprocessing_hash }),
    ...(r.secure_json === null ? {} : { secure: JSON.parse(r.secure_json) as NonNullable<LedgerEntry['secure']> }),
    ...(r.robust_json === null ? {} : { robust: JSON.parse(r.robust_json) as NonNullable<LedgerEntry['robust']> }),
    metrics: JSON.parse(r.metrics_json) as LedgerEntry['metrics'],
    ...(r.privacy_json == null ? {} : { privacy: JSON.parse(r.privacy_json) as NonNullable<LedgerEntry['privacy']> }),
    ...(r.conformal_json == null ? {} : { conformal: JSON.parse(r.conformal_json) as NonNullable<LedgerEntry['conformal']> }),
    ...(r.simulation_json == null ? {} : { simulation: JSON.parse(r.simulation_json) as NonNullable<LedgerEntry['simulation']> }),
    ...(r.children_json == null ? {} : { children: JSON.parse(r.children_json) as NonNullable<LedgerEntry['children']> }),
    createdAt: r.created_at,
    coordinatorKey: r.coordinator_key,
    entryHash: r.entry_hash,
    coordinatorSignature: r.coordinator_signature,
  };
}

export class LedgerStore {
  constructor(
    private readonly db: Db,
    private readonly signer: KeyPair | null = null,
  ) {}

  /** The public key new entries are signed with, or null for a read-only store. */
  signerKey(): string | null {
    return this.signer?.publicKey ?? null;
  }

  head(): { length: number; headHash: string; last: LedgerEntry | null } {
    const row = this.db.prepare('SELECT * FROM ledger ORDER BY idx DESC LIMIT 1').get() as LedgerRow | undefined;
    if (row === undefined) return { length: 0, headHash: GENESIS_PREV_HASH, last: null };
    return { length: row.idx + 1, headHash: row.entry_hash, last: fromRow(row) };
  }

  /** Seals, signs and inserts the next entry; call inside the transaction that stores the round's model. */
  append(fields: Omit<UnsignedEntry, 'index' | 'prevHash' | 'coordinatorKey'>): LedgerEntry {
    if (this.signer === null) throw new FedrxError('E_READ_ONLY', 'this ledger store has no signing key');
    const { length, headHash } = this.head();
    const entry = sealEntry({ ...fields, index: length, prevHash: headHash, coordinatorKey: this.signer.publicKey }, this.signer.secretKey);
    this.db
      .prepare(
        `INSERT INTO ledger (idx, prev_hash, run_id, round, model_hash, parent_model_hash, participants_json,
           config_hash, preprocessing_hash, secure_json, robust_json, metrics_json, privacy_json, conformal_json, simulation_json, children_json, created_at, coordinator_key, entry_hash, coordinator_signature)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(
        entry.index,
        entry.prevHash,
        entry.runId,
        entry.round,
        entry.modelHash,
        entry.parentModelHash,
        JSON.stringify(entry.participants),
        entry.configHash,
        entry.preprocessingHash ?? null,
        entry.secure === undefined ? null : JSON.stringify(entry.secure),
        entry.robust === undefined ? null : JSON.stringify(entry.robust),
        JSON.stringify(entry.metrics),
        entry.privacy === undefined ? null : JSON.stringify(entry.privacy),
        entry.conformal === undefined ? null : JSON.stringify(entry.conformal),
        entry.simulation === undefined ? null : JSON.stringify(entry.simulation),
        entry.children === undefined ? null : JSON.stringify(entry.children),
        entry.createdAt,
        entry.coordinatorKey,
        entry.entryHash,
        entry.coordinatorSignature,
      );
    return entry;
  }

  get(index: number): LedgerEntry | null {
    const row = this.db.prepare('SELECT * FROM ledger WHERE idx = ?').get(index) as LedgerRow | undefined;
    return row === undefined ? null : fromRow(row);
  }

  list(from = 0, limit = 1000): LedgerEntry[] {
    const rows = this.db.prepare('SELECT * FROM ledger WHERE idx >= ? ORDER BY idx LIMIT ?').all(from, limit) as LedgerRow[];
    return rows.map(fromRow);
  }

  /** Every entry in chain order, lazily. */
  *inOrder(): Generator<LedgerEntry> {
    for (const r of this.db.prepare('SELECT * FROM ledger ORDER BY idx').iterate() as IterableIterator<LedgerRow>) yield fromRow(r);
  }

  /** Entries newest first, of one run or of all; lazily, so a caller can stop at the first it wants. */
  *newestFirst(runId?: string): Generator<LedgerEntry> {
    const rows = (
      runId === undefined
        ? this.db.prepare('SELECT * FROM ledger ORDER BY idx DESC').iterate()
        : this.db.prepare('SELECT * FROM ledger WHERE run_id = ? ORDER BY idx DESC').iterate(runId)
    ) as IterableIterator<LedgerRow>;
    for (const r of rows) yield fromRow(r);
  }

  /** The entry that committed a model, if any. */
  byModelHash(modelHash: string): LedgerEntry | null {
    const row = this.db.prepare('SELECT * FROM ledger WHERE model_hash = ? ORDER BY idx LIMIT 1').get(modelHash) as LedgerRow | undefined;
    return row === undefined ? null : fromRow(row);
  }

  /** Streams the whole table through the chain check; rows that do not even parse are bad too. */
  verify(): ChainCheck {
    const rows = this.db.prepare('SELECT * FROM ledger ORDER BY idx').iterate() as IterableIterator<LedgerRow>;
    let position = 0;
    function* entries(): Generator<LedgerEntry> {
      for (const r of rows) {
        let e: LedgerEntry;
        try {
          e = fromRow(r);
        } catch {
          throw new FedrxError('E_LEDGER_BROKEN', `entry ${position} cannot be read`, { badIndex: position });
        }
        position++;
        yield e;
      }
    }
    try {
      return verifyChain(entries());
    } catch (e) {
      if (e instanceof FedrxError && e.code === 'E_LEDGER_BROKEN') {
        return { ok: false, length: position, badIndex: position, reason: e.message };
      }
      throw e;
    }
  }
}
