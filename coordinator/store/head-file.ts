// The coordinator's signed ledger head, in a small file beside its database (`FILE.head.json`),
// rewritten after every commit. Whoever deletes rows from the ledger table must also find, and
// roll back, this file to hide it; whoever lacks the coordinator key cannot forge a new one.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { parseJsonFile } from '../../shared/json-file.js';
import { SignedHeadSchema, signHead, type SignedHead } from '../../shared/ledger-head.js';
import type { KeyPair } from '../../shared/signing.js';

export const headFileOf = (dbFile: string): string | null => (dbFile === ':memory:' ? null : `${dbFile}.head.json`);

/** The recorded head, or null when there is no file; a file that does not parse is E_LEDGER_BROKEN. */
export function readHeadFile(file: string): SignedHead | null {
  if (!existsSync(file)) return null;
  return parseJsonFile(SignedHeadSchema, readFileSync(file, 'utf8'), 'E_LEDGER_BROKEN', `head file ${file}`);
}

/** Signs and writes the head: temporary file, fsync, rename, so a crash leaves the old or the new one. */
export function writeHeadFile(file: string, head: { length: number; headHash: string }, key: KeyPair): SignedHead {
  const signed = signHead(head, key);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(signed, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return signed;
}
