// Commands run on the coordinator's host, straight against its SQLite file.

import { existsSync } from 'node:fs';
import { FedrxError } from '../shared/errors.js';
import { openDb } from './db.js';
import type { Role } from './roles.js';
import { Store } from './store.js';
import { TokenStore, type CreatedToken } from './token-store.js';

const SITE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function addSite(dbFile: string, siteId: string, token?: string): string {
  if (!SITE_ID.test(siteId)) throw new FedrxError('E_BAD_REQUEST', 'site id must be 1-128 letters, digits or . _ : -');
  const db = openDb(dbFile);
  try {
    return new Store(db).addSite(siteId, token);
  } finally {
    db.close();
  }
}

/** A new API token of one role, straight into the database; the coordinator may be running. */
export function createApiToken(dbFile: string, role: Role, label?: string): CreatedToken {
  const db = openDb(dbFile);
  try {
    return new TokenStore(db).create(role, label);
  } finally {
    db.close();
  }
}

/** Prints the verdict; returns the process exit code (0 intact, 2 broken). */
export function verifyLedgerFile(dbFile: string): number {
  if (!existsSync(dbFile)) throw new FedrxError('E_NOT_FOUND', `no database at ${dbFile}`);
  const db = openDb(dbFile, { readonly: true });
  try {
    const check = new Store(db).ledger.verify();
    if (check.ok) {
      console.log(`ledger intact: ${check.length} entries, head ${check.headHash}`);
      return 0;
    }
    console.log(`ledger BROKEN at entry ${check.badIndex}: ${check.reason}`);
    return 2;
  } finally {
    db.close();
  }
}
