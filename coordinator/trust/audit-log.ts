// Who asked for which prediction, when, from which model: one append-only row per prediction
// request. The input itself is never stored, only a keyed hash of it.

import { createHmac } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { Db } from '../store/db.js';
import type { Principal } from './token-store.js';

export interface AuditEntry {
  seq: number;
  at: string;
  tokenId: string;
  role: string;
  route: string;
  runId: string;
  round: number;
  modelHash: string;
  ledgerIndex: number;
  /** 1 for a single prediction, the number of rows for a batch. */
  rows: number;
  /** HMAC-SHA256 (hex) of the canonical JSON of the features, or of the batch's rows array. */
  inputHash: string;
}

/**
 * A plain hash of a patient record could be reversed by hashing candidate records (age, sex,
 * a few genotypes: a small space) until one matches; an HMAC cannot be recomputed without the
 * coordinator's key, yet the key holder can still prove which input a row refers to.
 */
export function inputHmac(key: Uint8Array, input: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(input)).digest('hex');
}

interface Raw {
  seq: number;
  at: string;
  token_id: string;
  role: string;
  route: string;
  run_id: string;
  round: number;
  model_hash: string;
  ledger_index: number;
  rows: number;
  input_hash: string;
}

export class AuditLog {
  private readonly hasTable: boolean;

  constructor(
    private readonly db: Db,
    private readonly key: Uint8Array,
  ) {
    this.hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prediction_audit'`).get() !== undefined;
  }

  /** `input` is the request's features or rows: hashed here, never kept. */
  record(
    who: Principal,
    what: { route: string; runId: string; round: number; modelHash: string; ledgerIndex: number; rows: number; input: unknown },
  ): Pick<AuditEntry, 'seq' | 'at' | 'inputHash'> {
    const at = new Date().toISOString();
    const inputHash = inputHmac(this.key, what.input);
    const hit = this.db
      .prepare(
        `INSERT INTO prediction_audit (at, token_id, role, route, run_id, round, model_hash, ledger_index, rows, input_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(at, who.tokenId, who.role, what.route, what.runId, what.round, what.modelHash, what.ledgerIndex, what.rows, inputHash);
    return { seq: Number(hit.lastInsertRowid), at, inputHash };
  }

  /** Entries with `seq >= from`, oldest first. */
  list(from = 0, limit = 1000): AuditEntry[] {
    if (!this.hasTable) return [];
    const rows = this.db.prepare('SELECT * FROM prediction_audit WHERE seq >= ? ORDER BY seq LIMIT ?').all(from, limit) as Raw[];
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      tokenId: r.token_id,
      role: r.role,
      route: r.route,
      runId: r.run_id,
      round: r.round,
      modelHash: r.model_hash,
      ledgerIndex: r.ledger_index,
      rows: r.rows,
      inputHash: r.input_hash,
    }));
  }
}
