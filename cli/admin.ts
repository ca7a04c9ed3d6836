// Commands run on the coordinator's host, straight against its SQLite file.

import { existsSync } from 'node:fs';
import { FedrxError } from '../shared/errors.js';
import { readPublicKeyFile } from '../shared/key-files.js';
import { asDbCorrupt, openDb } from '../coordinator/store/db.js';
import type { Role } from '../shared/roles.js';
import { Store } from '../coordinator/store/store.js';
import { TokenStore, type CreatedToken } from '../coordinator/trust/token-store.js';

function withStore<T>(dbFile: string, fn: (store: Store) => T, opts: { readonly?: boolean } = {}): T {
  if (opts.readonly && !existsSync(dbFile)) throw new FedrxError('E_NOT_FOUND', `no database at ${dbFile}`);
  const db = openDb(dbFile, opts);
  try {
    return fn(new Store(db));
  } catch (e) {
    throw asDbCorrupt(e, dbFile);
  } finally {
    db.close();
  }
}

/** Enrols a site by its public key file (or re-keys or reinstates it); returns a line to print. */
export function registerSite(dbFile: string, siteId: string, publicKeyFile: string): string {
  const key = readPublicKeyFile(publicKeyFile);
  return withStore(dbFile, (store) => {
    const { site, change } = store.sites.register(siteId, key);
    return `site ${site.id} ${change}: public key ${site.publicKey}`;
  });
}

/** A new API token of one role, straight into the database; the coordinator may be running. */
export function createApiToken(dbFile: string, role: Role, label?: string): CreatedToken {
  return withStore(dbFile, (store) => new TokenStore(store.db).create(role, label));
}

/**
 * Revokes a site: refused at its next hello, and by a running coordinator at its next message.
 * Its past signatures stay verifiable.
 */
export function revokeSite(dbFile: string, siteId: string): string {
  return withStore(dbFile, (store) => `site ${siteId} revoked at ${store.sites.revoke(siteId).revokedAt}`);
}

export { withStore };
