// API tokens, one role each. A token is shown once, at creation; the table keeps only a
// domain-separated SHA-256 of it, so a copy of the database lets no one call the API.

import { createHash, randomBytes } from 'node:crypto';
import { FedrxError } from '../../shared/errors.js';
import type { Db } from '../store/db.js';
import { isRole, type Role } from '../../shared/roles.js';

/** Who is calling: attached to every authenticated request. */
export interface Principal {
  tokenId: string;
  role: Role;
  label: string | null;
}

/** "data-scientist dr-lee (tok-…)": who did something, as records name them. */
export const principalName = (p: Principal): string => `${p.role} ${p.label === null ? p.tokenId : `${p.label} (${p.tokenId})`}`;

export interface CreatedToken {
  id: string;
  role: Role;
  label: string | null;
  /** The secret: shown once, never stored. */
  token: string;
}

export interface TokenInfo {
  id: string;
  role: Role;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export const TOKEN_PREFIX = 'frx_';
/** `frx_` + 32 random bytes in base64url (43 characters). */
export const TOKEN_PATTERN = /^frx_[A-Za-z0-9_-]{43}$/;
export const TOKEN_ID_PATTERN = '^tok-[0-9a-f]{12}$';
export const LABEL_MAX = 128;
// Printable characters only: labels end up in logs and tables.
const LABEL = /^[^\p{Cc}\p{Cf}]+$/u;

const hashToken = (token: string): string => createHash('sha256').update(`fedrx/api-token/v1\0${token}`).digest('hex');

interface Row {
  id: string;
  role: string;
  label: string | null;
  created_at: string;
  revoked_at: string | null;
}

export class TokenStore {
  /** False on a read-only database created before API tokens existed: no token is then valid. */
  private readonly hasTable: boolean;

  constructor(private readonly db: Db) {
    this.hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_tokens'`).get() !== undefined;
  }

  create(role: Role, label?: string): CreatedToken {
    if (!isRole(role)) throw new FedrxError('E_BAD_REQUEST', `role must be one of admin, data-scientist, clinician, auditor`);
    if (label !== undefined && (label.length === 0 || label.length > LABEL_MAX || !LABEL.test(label))) {
      throw new FedrxError('E_BAD_REQUEST', `label must be 1-${LABEL_MAX} printable characters`);
    }
    const id = `tok-${randomBytes(6).toString('hex')}`;
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.db
      .prepare('INSERT INTO api_tokens (id, role, token_hash, label, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, role, hashToken(token), label ?? null, new Date().toISOString());
    return { id, role, label: label ?? null, token };
  }

  /**
   * Attacker-controlled `token`. Looked up by its hash, with no constant-time compare: a timing
   * difference could at most tell how much of SHA-256(guess) matches a stored hash, which says
   * nothing about a 256-bit random token, since no one can choose a preimage for hash bytes.
   */
  find(token: string): Principal | null {
    if (!this.hasTable || !TOKEN_PATTERN.test(token)) return null;
    const row = this.db.prepare('SELECT id, role, label FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL').get(hashToken(token)) as
      | Pick<Row, 'id' | 'role' | 'label'>
      | undefined;
    if (row === undefined || !isRole(row.role)) return null;
    return { tokenId: row.id, role: row.role, label: row.label };
  }

  /** True while the token `id` exists and is not revoked (a dashboard session lives only as long as its token). */
  active(id: string): boolean {
    if (!this.hasTable) return false;
    return this.db.prepare('SELECT 1 FROM api_tokens WHERE id = ? AND revoked_at IS NULL').get(id) !== undefined;
  }

  /** Revokes a token (a second revocation keeps the first date); false when no such id. */
  revoke(id: string): boolean {
    const hit = this.db.prepare('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(new Date().toISOString(), id);
    return hit.changes > 0;
  }

  /** Every token's public part; never the hashes. */
  list(): TokenInfo[] {
    if (!this.hasTable) return [];
    const rows = this.db.prepare('SELECT id, role, label, created_at, revoked_at FROM api_tokens ORDER BY created_at, id').all() as Row[];
    return rows.flatMap((r) => (isRole(r.role) ? [{ id: r.id, role: r.role, label: r.label, createdAt: r.created_at, revokedAt: r.revoked_at }] : []));
  }
}
