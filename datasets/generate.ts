/**
 * Writes one CSV per site. Every site draws patients from a stream seeded by
 * (seed, siteId), so the same seed gives byte-identical files and adding a
 * site does not reshuffle the others' patients.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planSites } from './partition.js';
import { deriveSeed, Prng, type Seed } from '../shared/prng.js';
import { generatePatients, type Ancestry } from './synthetic-cohort.js';
import { patientToRow, SYNTHETIC_COLUMNS, toCsv } from './write-csv.js';

export const DEFAULT_SEED = 'fedrx-synthetic-v1';

export interface GenerateSiteCsvsOptions {
  sites: number;
  outDir: string;
  seed?: Seed;
  totalPatients?: number;
  alpha?: number;
}

export interface GeneratedSite {
  siteId: string;
  file: string;
  rows: number;
  ancestryMix: Record<Ancestry, number>;
}

export async function generateSiteCsvs(opts: GenerateSiteCsvsOptions): Promise<GeneratedSite[]> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const plans = planSites({
    sites: opts.sites,
    seed,
    totalPatients: opts.totalPatients,
    alpha: opts.alpha,
  });
  await mkdir(opts.outDir, { recursive: true });

  const out: GeneratedSite[] = [];
  for (const plan of plans) {
    const rng = new Prng(deriveSeed(seed, plan.siteId, 'cohort'));
    const patients = generatePatients({
      n: plan.n,
      ancestryMix: plan.ancestryMix,
      rng,
      siteId: plan.siteId,
    });
    const file = join(opts.outDir, `${plan.siteId}.csv`);
    await writeFile(file, toCsv(patients.map(patientToRow), SYNTHETIC_COLUMNS), 'utf8');
    out.push({ siteId: plan.siteId, file, rows: patients.length, ancestryMix: plan.ancestryMix });
  }
  return out;
}
