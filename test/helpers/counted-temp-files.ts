import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { SPOOL_PREFIX } from '../../coordinator/strategies/chunk-spool.js';

/**
 * Points TMPDIR at a folder of this test file's own while its tests run (each test file is its
 * own process), so the temporary files the coordinator makes in this process can be counted.
 * Returns the names of the stream spools and update-buffer spills left in it.
 */
export function countedTempFiles(): () => string[] {
  const saved = process.env.TMPDIR;
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fedrx-counted-'));
    process.env.TMPDIR = root;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });
  return () => readdirSync(root).filter((f) => f.startsWith(SPOOL_PREFIX) || f.startsWith('fedrx-updates-'));
}
