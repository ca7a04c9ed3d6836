/**
 * Minimal RFC 4180 CSV writer plus the fixed column layout that site agents
 * ingest. Kept dependency-free so generated files are byte-stable.
 */
import type { SyntheticPatient } from './synthetic-cohort.js';

export type CsvValue = string | number | boolean | null | undefined;

export const SYNTHETIC_COLUMNS = [
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
export type SyntheticColumn = (typeof SYNTHETIC_COLUMNS)[number];
export type SyntheticRow = Record<SyntheticColumn, CsvValue>;

/** Numbers keep at most 2 decimals; booleans become 0/1; null/undefined become empty. */
export function formatCsvValue(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot write non-finite number ${v} to CSV`);
    const r = Math.round(v * 100) / 100;
    return String(r === 0 ? 0 : r); // avoid "-0"
  }
  return v;
}

/** Quote only when needed: fields containing comma, quote, CR or LF; embedded quotes are doubled. */
export function quoteCsvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Header line plus one line per row, "\n" line endings, trailing newline. */
export function toCsv<C extends string>(
  rows: ReadonlyArray<Readonly<Record<C, CsvValue>>>,
  columns: readonly C[],
): string {
  const lines = [columns.map(quoteCsvField).join(',')];
  for (const row of rows) {
    lines.push(columns.map((c) => quoteCsvField(formatCsvValue(row[c]))).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Map a patient to the CSV layout; missing genotypes become empty cells. */
export function patientToRow(p: SyntheticPatient): SyntheticRow {
  return {
    patient_id: p.patientId,
    age_years: Math.round(p.ageYears),
    sex: p.sex,
    height_cm: p.heightCm,
    weight_kg: p.weightKg,
    ancestry: p.ancestry,
    cyp2c9: p.cyp2c9Observed,
    vkorc1_1639: p.vkorc1Observed,
    amiodarone: p.amiodarone,
    enzyme_inducer: p.enzymeInducer,
    weekly_dose_mg: p.weeklyDoseMg,
  };
}
