// The rows a simulation splits among its virtual sites: a synthetic warfarin cohort made on the
// spot, or a CSV the user gives (`--data`). Held as cells, written back out per site unchanged.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BASE_ANCESTRY_MIX } from '../datasets/partition.js';
import { generatePatients } from '../datasets/synthetic-cohort.js';
import { patientToRow, quoteCsvField, SYNTHETIC_COLUMNS, toCsv } from '../datasets/write-csv.js';
import { readCsv } from '../shared/csv.js';
import { Prng } from '../shared/prng.js';

export interface SourceTable {
  /** What the ledger records as the source: `synthetic-warfarin` or the file's name. */
  label: string;
  header: string[];
  rows: (readonly string[])[];
}

export function tableOfCsv(text: string, label: string): SourceTable {
  const csv = readCsv(text, label);
  const rows: (readonly string[])[] = [];
  csv.forEach((cells) => rows.push(cells));
  return { label, header: csv.header, rows };
}

export async function csvSource(file: string): Promise<SourceTable> {
  return tableOfCsv(await readFile(file, 'utf8'), basename(file));
}

/** A synthetic warfarin cohort (datasets/synthetic-cohort.ts) of `n` patients from one seed. */
export function syntheticSource(n: number, seed: string): SourceTable {
  const patients = generatePatients({ n, ancestryMix: BASE_ANCESTRY_MIX, rng: new Prng(`${seed}/cohort`), siteId: 'sim' });
  return tableOfCsv(toCsv(patients.map(patientToRow), SYNTHETIC_COLUMNS), 'synthetic-warfarin');
}

/** Writes each site's rows (indices into the source) to `<dir>/<siteId>.csv`; returns the files in site order. */
export async function writeSiteFiles(source: SourceTable, parts: readonly (readonly number[])[], siteIds: readonly string[], dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const line = (cells: readonly string[]): string => cells.map(quoteCsvField).join(',');
  const head = line(source.header);
  const files = siteIds.map((id) => join(dir, `${id}.csv`));
  // A few at a time: ten thousand sites would otherwise hold ten thousand files open.
  for (let from = 0; from < parts.length; from += 64) {
    await Promise.all(parts.slice(from, from + 64).map((rows, k) => writeFile(files[from + k]!, [head, ...rows.map((r) => line(source.rows[r]!))].join('\n') + '\n')));
  }
  return files;
}
