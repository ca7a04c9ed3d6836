// The start of an IWPC benchmark: exits (0) with a message when the cohort is not beside the
// checkout, else gives a fresh output folder.

import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { IWPC_CSV, iwpcAvailable } from '../datasets/iwpc.js';

export function iwpcBenchDir(outArg: string): string {
  if (!iwpcAvailable()) {
    console.log(`IWPC cohort not found at ${IWPC_CSV}: nothing to benchmark (it lives in ../shared/datasets/iwpc/ beside the checkout).`);
    process.exit(0);
  }
  const out = resolve(outArg);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  return out;
}
