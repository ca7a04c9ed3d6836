// Shared fixtures for the site-agent tests: the synthetic study, tiny CSVs written to temp dirs,
// and seeded random numbers (tests must not depend on datasets/, which is written elsewhere).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EncodeProblem, extractRow, type ExtractedRow } from '../../shared/extract.js';
import { preprocessingOfRows, type Preprocessing } from '../../shared/feature-stats.js';
import { loadStudyFile } from '../../shared/load-study.js';
import type { Study } from '../../shared/study.js';
import { Prng } from '../../shared/prng.js';

// Tests run on the plain-JS backend unless told otherwise: it starts instantly and is exact.
process.env.FEDRX_TF_BACKEND ??= 'cpu';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function warfarinStudy(): Study {
  return loadStudyFile(path.join(ROOT, 'datasets/studies/synthetic-warfarin.json'));
}

export const WARFARIN_COLUMNS = [
  'patient_id',
  'age_years',
  'sex',
  'height_cm',
  'weight_kg',
  'ancestry',
  'cyp2c9',
  'vkorc1_1639',
  'amiodarone',
  'enzyme_inducer',
  'weekly_dose_mg',
] as const;

export type Row = Record<string, string | number>;

/** Plausible patient rows; deterministic for a given seed. */
export function warfarinRows(n: number, seed = 1): Row[] {
  const rRng = new Prng(seed);
  const r = (): number => rRng.next();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const age = Math.round(30 + r() * 55);
    const vk = pick(['G/G', 'A/G', 'A/A']);
    const dose = Math.max(5, Math.round((45 - (vk === 'A/A' ? 20 : vk === 'A/G' ? 10 : 0) - (age - 60) * 0.3 + (r() - 0.5) * 10) * 10) / 10);
    rows.push({
      patient_id: `P${1000 + i}`,
      age_years: age,
      sex: pick(['F', 'M']),
      height_cm: Math.round(150 + r() * 40),
      weight_kg: Math.round(50 + r() * 60),
      ancestry: pick(['White', 'Asian', 'Black', 'Other']),
      cyp2c9: pick(['*1/*1', '*1/*2', '*1/*3']),
      vkorc1_1639: vk,
      amiodarone: pick(['0', '1']),
      enzyme_inducer: pick(['0', '0', '1']),
      weekly_dose_mg: dose,
    });
  }
  return rows;
}

/** Raw values of every row, as a site reads them; a row the study refuses fails the test. */
export function extractAll(study: Study, rows: readonly Row[]): ExtractedRow[] {
  return rows.map((row, i) => {
    const x = extractRow(study, row);
    if (x instanceof EncodeProblem) throw new Error(`row ${i}: ${x.describe()}`);
    return x;
  });
}

/** The preprocessing a run would fix if these rows were all the federation's training rows. */
export function prepOf(study: Study, rows: readonly Row[]): Preprocessing {
  return preprocessingOfRows(study, extractAll(study, rows));
}

export function csvText(rows: readonly Row[], columns: readonly string[] = WARFARIN_COLUMNS): string {
  const cell = (v: string | number | undefined): string => {
    const s = v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\n') + '\n';
}

export interface TempDir {
  dir: string;
  file(name: string, text: string): string;
  cleanup(): void;
}

export function tempDir(prefix = 'fedrx-agent-'): TempDir {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    file(name, text) {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Standard normal draws (Box–Muller) from a seeded generator. */
export function gaussian(seed: number): () => number {
  const rRng = new Prng(seed);
  const r = (): number => rRng.next();
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Polls `cond` until it holds; fails naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
