// The coordinator's secret key for the prediction audit log's input HMACs (audit-log.ts).

import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FedrxError } from '../../shared/errors.js';

export const AUDIT_KEY_BYTES = 32;

/**
 * The key beside the database (`audit.key`, mode 0600), created on first use. An in-memory
 * database gets a random key for its lifetime; so does a read-only coordinator with no key
 * file, since it serves no predictions.
 */
export function loadAuditKey(dbFile: string, opts: { create: boolean; log?: (line: string) => void }): Uint8Array {
  if (dbFile === ':memory:') return randomBytes(AUDIT_KEY_BYTES);
  const file = join(dirname(dbFile), 'audit.key');
  try {
    // 'wx': never overwrite a key another process has just written.
    if (opts.create) writeFileSync(file, randomBytes(AUDIT_KEY_BYTES), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !opts.create) return randomBytes(AUDIT_KEY_BYTES);
    throw e;
  }
  if (key.length !== AUDIT_KEY_BYTES) throw new FedrxError('E_INTERNAL', `${file} must hold exactly ${AUDIT_KEY_BYTES} bytes (it holds ${key.length})`);
  if ((statSync(file).mode & 0o077) !== 0) opts.log?.(`warning: ${file} is readable by other users; chmod 600 it`);
  return key;
}
