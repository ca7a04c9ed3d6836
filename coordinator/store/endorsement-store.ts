// Endorsements (a participant's signature over an entry hash) and disputes (a site's refusal of
// an entry), kept beside the ledger. Rows are checked by the caller before they are added.

import { isErrorCode, type ErrorCode } from '../../shared/errors.js';
import type { Db } from './db.js';

export interface EndorsementRow {
  entryIndex: number;
  siteId: string;
  entryHash: string;
  signature: string;
  receivedAt: string;
}

export interface DisputeRow {
  siteId: string;
  entryIndex: number;
  code: ErrorCode;
  reason: string;
  receivedAt: string;
}

export class EndorsementStore {
  constructor(private readonly db: Db) {}

  /** Returns false when the site had already endorsed that entry (the first one stands). */
  add(e: Omit<EndorsementRow, 'receivedAt'>): boolean {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO endorsements (entry_index, site_id, entry_hash, signature, received_at) VALUES (?, ?, ?, ?, ?)')
      .run(e.entryIndex, e.siteId, e.entryHash, e.signature, new Date().toISOString());
    return r.changes === 1;
  }

  /** How many endorsements of one entry are stored. */
  count(entryIndex: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM endorsements WHERE entry_index = ?').get(entryIndex) as { n: number }).n;
  }

  /** Endorsements of entries from..to (inclusive), grouped by entry index. */
  byEntry(from: number, to: number): Map<number, EndorsementRow[]> {
    const rows = this.db
      .prepare('SELECT * FROM endorsements WHERE entry_index BETWEEN ? AND ? ORDER BY entry_index, site_id')
      .all(from, to) as { entry_index: number; site_id: string; entry_hash: string; signature: string; received_at: string }[];
    const out = new Map<number, EndorsementRow[]>();
    for (const r of rows) {
      const list = out.get(r.entry_index) ?? [];
      list.push({ entryIndex: r.entry_index, siteId: r.site_id, entryHash: r.entry_hash, signature: r.signature, receivedAt: r.received_at });
      out.set(r.entry_index, list);
    }
    return out;
  }

  addDispute(d: Omit<DisputeRow, 'receivedAt'>): void {
    this.db
      .prepare('INSERT INTO disputes (site_id, entry_index, code, reason, received_at) VALUES (?, ?, ?, ?, ?)')
      .run(d.siteId, d.entryIndex, d.code, d.reason, new Date().toISOString());
  }

  disputes(limit = 1000): DisputeRow[] {
    const rows = this.db.prepare('SELECT * FROM disputes ORDER BY seq DESC LIMIT ?').all(limit) as {
      site_id: string;
      entry_index: number;
      code: string;
      reason: string;
      received_at: string;
    }[];
    // Older versions stored any E_… code a site sent; such a row reads as a plain dispute, its reason kept.
    const code = (c: string): ErrorCode => (isErrorCode(c) ? c : 'E_ENTRY_DISPUTED');
    return rows.map((r) => ({ siteId: r.site_id, entryIndex: r.entry_index, code: code(r.code), reason: r.reason, receivedAt: r.received_at }));
  }
}
