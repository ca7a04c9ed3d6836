// The sites a coordinator accepts, each known by its Ed25519 public key. Keys are never deleted:
// a re-keyed or revoked site's old signatures in the ledger must still verify.

import { FedrxError } from '../../shared/errors.js';
import { PUBLIC_KEY_HEX } from '../../shared/signing.js';
import type { Db } from './db.js';

export const SITE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface SiteRecord {
  id: string;
  /** The key the site signs with now. */
  publicKey: string;
  createdAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
}

const now = (): string => new Date().toISOString();

export class SiteRegistry {
  constructor(private readonly db: Db) {}

  /**
   * Enrols a site, gives it a new key (the old one retires but keeps verifying old signatures),
   * or reinstates a revoked site.
   */
  register(id: string, publicKey: string): { site: SiteRecord; change: 'registered' | 'rekeyed' | 'reinstated' | 'unchanged' } {
    if (!SITE_ID.test(id)) throw new FedrxError('E_BAD_REQUEST', 'site id must be 1-128 letters, digits or . _ : -');
    if (!PUBLIC_KEY_HEX.test(publicKey)) throw new FedrxError('E_BAD_REQUEST', 'public key must be 64 lowercase hex digits (Ed25519)');
    const owner = this.db.prepare('SELECT site_id FROM site_keys WHERE public_key = ? AND site_id <> ?').get(publicKey, id) as { site_id: string } | undefined;
    if (owner !== undefined) throw new FedrxError('E_BAD_REQUEST', `this public key already belongs to site ${owner.site_id}`);
    return this.db.transaction(() => {
      const before = this.get(id);
      const at = now();
      if (before === null) this.db.prepare('INSERT INTO sites (id, created_at) VALUES (?, ?)').run(id, at);
      let change: 'registered' | 'rekeyed' | 'reinstated' | 'unchanged' = before === null ? 'registered' : 'unchanged';
      if (before !== null && before.publicKey !== publicKey) {
        this.db.prepare('UPDATE site_keys SET retired_at = ? WHERE site_id = ? AND retired_at IS NULL').run(at, id);
        change = 'rekeyed';
      }
      if (before === null || before.publicKey !== publicKey) {
        this.db
          .prepare(`INSERT INTO site_keys (site_id, public_key, registered_at) VALUES (?, ?, ?)
                    ON CONFLICT(site_id, public_key) DO UPDATE SET retired_at = NULL`)
          .run(id, publicKey, at);
      }
      if (before?.revokedAt != null) {
        this.db.prepare('UPDATE sites SET revoked_at = NULL WHERE id = ?').run(id);
        if (change === 'unchanged') change = 'reinstated';
      }
      return { site: this.get(id)!, change };
    }).immediate(); // take the write lock up front: a read-then-write upgrade fails at once when busy
  }

  /** Refuses the site from now on; its existing connection is closed by the caller. */
  revoke(id: string): SiteRecord {
    const site = this.get(id);
    if (site === null) throw new FedrxError('E_NOT_FOUND', `no site ${id}`);
    if (site.revokedAt === null) this.db.prepare('UPDATE sites SET revoked_at = ? WHERE id = ?').run(now(), id);
    return this.get(id)!;
  }

  get(id: string): SiteRecord | null {
    const r = this.db
      .prepare(
        `SELECT s.id, s.created_at, s.last_seen_at, s.revoked_at, k.public_key FROM sites s
         JOIN site_keys k ON k.site_id = s.id AND k.retired_at IS NULL WHERE s.id = ?`,
      )
      .get(id) as RawSite | undefined;
    return r === undefined ? null : toRecord(r);
  }

  list(): SiteRecord[] {
    const rows = this.db
      .prepare(
        `SELECT s.id, s.created_at, s.last_seen_at, s.revoked_at, k.public_key FROM sites s
         JOIN site_keys k ON k.site_id = s.id AND k.retired_at IS NULL ORDER BY s.id`,
      )
      .all() as RawSite[];
    return rows.map(toRecord);
  }

  /**
   * Every key each site has ever had (what its past signatures may verify under), read in one
   * query: audits look up every participant of every entry.
   */
  keyring(): (siteId: string) => readonly string[] {
    const rows = this.db.prepare('SELECT site_id, public_key FROM site_keys ORDER BY registered_at').all() as { site_id: string; public_key: string }[];
    const keys = new Map<string, string[]>();
    for (const r of rows) keys.set(r.site_id, [...(keys.get(r.site_id) ?? []), r.public_key]);
    return (siteId) => keys.get(siteId) ?? [];
  }

  touch(id: string): void {
    this.db.prepare('UPDATE sites SET last_seen_at = ? WHERE id = ?').run(now(), id);
  }
}

interface RawSite {
  id: string;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
  public_key: string;
}

const toRecord = (r: RawSite): SiteRecord => ({
  id: r.id,
  publicKey: r.public_key,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  revokedAt: r.revoked_at,
});
