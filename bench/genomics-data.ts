// The GDSC2 cell-line panel for `npm run bench:genomics`: one CSV per lineage site, as a
// hospital would hold it, and the study each drug is fitted with.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fedrxCommand } from '../cli/local-federation.js';
import { loadStudyFile } from '../shared/load-study.js';
import type { Study } from '../shared/study.js';

export const GDSC2_CSV: string = fileURLToPath(new URL('../../shared/datasets/gdsc2/gdsc2_cell_lines.csv', import.meta.url));
export const DRUGS = ['Afatinib', 'Lapatinib', 'Olaparib', 'Docetaxel', 'Camptothecin', 'Alpelisib'] as const;
/** The held-out 20% of each site's lines with a response: fedrx's own seeded shuffle (shared/holdout.ts) with this seed. */
export const HOLDOUT_SEED = 2026;

export interface GenomicsSite {
  siteId: string;
  file: string;
  rows: number;
}

export const gdsc2Available = (): boolean => existsSync(GDSC2_CSV);

/** Splits the panel by its `site` column (the file holds no quoted fields). */
export function writeGdsc2SiteCsvs(outDir: string): { header: string[]; sites: GenomicsSite[] } {
  const lines = readFileSync(GDSC2_CSV, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0]!.split(',');
  const siteCol = header.indexOf('site');
  const bySite = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const site = line.split(',', siteCol + 1)[siteCol]!;
    let rows = bySite.get(site);
    if (rows === undefined) bySite.set(site, (rows = []));
    rows.push(line);
  }
  mkdirSync(outDir, { recursive: true });
  const sites = [...bySite.keys()].sort().map((siteId) => {
    const file = join(outDir, `${siteId}.csv`);
    writeFileSync(file, [lines[0], ...bySite.get(siteId)!].join('\n') + '\n');
    return { siteId, file, rows: bySite.get(siteId)!.length };
  });
  return { header, sites };
}

/**
 * The study `fedrx study init` drafts from the largest site's CSV, with no edit beyond naming the
 * drug's column as the target (and the hold-out seed by its --seed flag).
 */
export async function draftStudy(sites: readonly GenomicsSite[], drug: string, dir: string): Promise<Study> {
  const largest = [...sites].sort((a, b) => b.rows - a.rows)[0]!;
  const file = join(dir, `study-${drug.toLowerCase()}.yaml`);
  const r = await fedrxCommand(['study', 'init', '--data', largest.file, '--target', `ln_ic50_${drug}`, '--seed', String(HOLDOUT_SEED), '--out', file, '--force']);
  if (r.code !== 0) throw new Error(`fedrx study init failed:\n${r.lines.join('\n')}`);
  return loadStudyFile(file);
}
