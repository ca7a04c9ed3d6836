// Reads one record (keys are the study's column names) into raw feature values: numbers before
// standardisation, level indices, 0/1 flags, and the transformed target. Site statistics are
// computed over these; encoding (shared/preprocess.ts) turns them into model inputs. Pure, and
// a problem names the column and its kind, never the value.

import {
  featureColumns,
  isRegression,
  targetColumn,
  type BinaryFeature,
  type ClassificationTarget,
  type Feature,
  type GenotypeFeature,
  type LevelFeature,
  type NumericFeature,
  type RegressionTarget,
  type Study,
} from './study.js';

export type RawValue = string | number | boolean | null | undefined;
export type RawRecord = Record<string, RawValue>;

/** Why a record cannot be used: which column, and what kind of problem (never the value). */
export class EncodeProblem {
  constructor(
    readonly column: string,
    readonly kind: 'missing' | 'not-a-number' | 'out-of-range' | 'unknown-level',
  ) {}
  describe(): string {
    return `column "${this.column}": ${this.kind.replace(/-/g, ' ')}`;
  }
}

/**
 * One slot per feature: numeric → the value (NaN when missing and imputed later), level
 * features → level index, binary → 0 or 1. Target: transformed value, or class index.
 */
export interface ExtractedRow {
  values: Float64Array;
  target: number;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function isMissing(v: RawValue): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (typeof v === 'number' && Number.isNaN(v));
}

const text = (v: RawValue): string => String(v).trim();

/** A cell looked up in a study's table (map, aliases): own keys only, so "constructor" is no entry. */
const lookup = <T>(table: Record<string, T> | undefined, key: string): T | undefined =>
  table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;

/** Plain decimal numbers only: no hex, no booleans, no 'Infinity'. */
function asNumber(v: RawValue): number {
  return typeof v === 'number' ? v : parseDecimal(String(v));
}

/**
 * A cell's number if it is a plain decimal (DECIMAL, surrounding white space allowed), else NaN.
 * A hand scan, not the regular expression: wide files have millions of cells.
 */
export function parseDecimal(cell: string): number {
  let i = 0;
  let end = cell.length;
  while (i < end && isSpace(cell.charCodeAt(i))) i++;
  while (end > i && isSpace(cell.charCodeAt(end - 1))) end--;
  if (i === end) return Number.NaN;
  const from = i;
  let c = cell.charCodeAt(i);
  const negative = c === MINUS;
  if (c === PLUS || c === MINUS) c = cell.charCodeAt(++i);
  // The digits as an integer m and a power of ten: m·10^scale, while m stays exact (< 10^15).
  let m = 0;
  let significant = 0;
  let scale = 0;
  let digits = 0;
  // Digits beyond the 15th only scale (before the dot) or are dropped (after it); then Number decides.
  for (let afterDot = false; ; c = cell.charCodeAt(++i)) {
    if (isDigit(c)) {
      digits++;
      if (significant < 15) {
        m = m * 10 + (c - 48);
        if (m > 0) significant++;
        if (afterDot) scale--;
      } else {
        significant++;
        if (!afterDot) scale++;
      }
    } else if (c === DOT && !afterDot) afterDot = true;
    else break;
  }
  if (digits === 0) return Number.NaN;
  if ((c === LOWER_E || c === UPPER_E) && i < end) {
    c = cell.charCodeAt(++i);
    const expNegative = c === MINUS;
    if (c === PLUS || c === MINUS) c = cell.charCodeAt(++i);
    let exp = 0;
    let expDigits = 0;
    while (isDigit(c)) (exp = Math.min(exp * 10 + c - 48, 1e6)), (c = cell.charCodeAt(++i)), expDigits++;
    if (expDigits === 0) return Number.NaN;
    scale += expNegative ? -exp : exp;
  }
  if (i !== end) return Number.NaN;
  // An exact integer of at most 15 digits times or over an exact power of ten is one correctly
  // rounded operation, so it equals Number(text) (Clinger's fast path); anything else asks Number.
  if (significant <= 15 && scale >= -22 && scale <= 22) {
    const x = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
    return negative ? -x : x;
  }
  return Number(cell.slice(from, end));
}

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const LOWER_E = 101;
const UPPER_E = 69;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** What String.prototype.trim removes, for the characters exports actually hold. */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff;

function numeric(f: NumericFeature, v: RawValue): number | EncodeProblem {
  const column = f.column ?? f.name;
  if (isMissing(v)) return f.missing === 'mean' ? Number.NaN : new EncodeProblem(column, 'missing');
  const mapped = f.map === undefined ? undefined : lookup(f.map, text(v));
  const x = mapped ?? asNumber(v);
  if (!Number.isFinite(x)) return new EncodeProblem(column, 'not-a-number');
  if ((f.min !== undefined && x < f.min) || (f.max !== undefined && x > f.max)) return new EncodeProblem(column, 'out-of-range');
  return x;
}

/** A missing genotype call from the first linked-variant rule that applies, if any. */
function imputed(f: GenotypeFeature, record: RawRecord): string | undefined {
  for (const rule of f.imputeFrom ?? []) {
    if (rule.onlyWhen !== undefined) {
      const gate = record[rule.onlyWhen.column];
      if (isMissing(gate) || !rule.onlyWhen.values.includes(text(gate))) continue;
    }
    const call = record[rule.column];
    const level = isMissing(call) ? undefined : lookup(rule.map, text(call));
    if (level !== undefined) return level;
  }
  return undefined;
}

function level(f: LevelFeature, record: RawRecord): number | EncodeProblem {
  return levelOf(f, record[f.column ?? f.name], record);
}

/** `record` is read only to impute a missing genotype call from linked variants. */
function levelOf(f: LevelFeature, v: RawValue, record: RawRecord | undefined): number | EncodeProblem {
  const column = f.column ?? f.name;
  const fallbackOther = f.kind === 'genotype' ? f.unknownLevel : f.otherLevel;
  let name: string | undefined;
  if (isMissing(v)) {
    // Linked-variant rules run only for a missing call, not for every row.
    const fallbackMissing = f.kind === 'genotype' ? ((record === undefined ? undefined : imputed(f, record)) ?? f.unknownLevel) : f.missingLevel;
    if (fallbackMissing === undefined) return new EncodeProblem(column, 'missing');
    name = fallbackMissing;
  } else {
    const raw = text(v);
    name = lookup(f.aliases, raw) ?? raw;
    if (!f.levels.includes(name)) {
      if (fallbackOther === undefined) return new EncodeProblem(column, 'unknown-level');
      name = fallbackOther;
    }
  }
  return f.levels.indexOf(name);
}

function binary(f: BinaryFeature, record: RawRecord): number | EncodeProblem {
  return binaryOf(f, featureColumns(f).map((c) => [c, record[c]] as const));
}

function binaryOf(f: BinaryFeature, cells: readonly (readonly [string, RawValue])[]): number | EncodeProblem {
  const trueValues = f.trueValues ?? ['1'];
  const falseValues = f.falseValues ?? ['0'];
  let seen = false;
  for (const [column, v] of cells) {
    if (isMissing(v)) continue;
    seen = true;
    const s = text(v);
    // Numeric exports write 1.0 for 1: compare as numbers when both sides are numbers.
    const matches = (list: string[]): boolean => list.some((t) => t === s || (DECIMAL.test(t) && DECIMAL.test(s) && Number(t) === Number(s)));
    if (matches(trueValues)) return 1;
    if (!matches(falseValues)) return new EncodeProblem(column, 'unknown-level');
  }
  if (!seen && f.missing === 'drop') return new EncodeProblem(featureColumns(f).join('|'), 'missing');
  return 0;
}

export function extractFeature(f: Feature, record: RawRecord): number | EncodeProblem {
  switch (f.kind) {
    case 'numeric':
      return numeric(f, record[f.column ?? f.name]);
    case 'binary':
      return binary(f, record);
    default:
      return level(f, record);
  }
}

export function forwardTransform(t: RegressionTarget, y: number): number {
  switch (t.transform) {
    case 'sqrt':
      return Math.sqrt(y);
    case 'log':
      return Math.log(y);
    default:
      return y;
  }
}

export function inverseTransform(t: RegressionTarget, u: number): number {
  switch (t.transform) {
    case 'sqrt':
      return Math.max(0, u) ** 2;
    case 'log':
      return Math.exp(u);
    default:
      return u;
  }
}

export function extractTarget(study: Study, record: RawRecord): number | EncodeProblem {
  const column = targetColumn(study);
  const v = record[column];
  if (isMissing(v)) return new EncodeProblem(column, 'missing');
  if (isRegression(study)) {
    const y = asNumber(v);
    if (!Number.isFinite(y)) return new EncodeProblem(column, 'not-a-number');
    if (y < study.target.min || y > study.target.max) return new EncodeProblem(column, 'out-of-range');
    return forwardTransform(study.target, y);
  }
  const t = study.target as ClassificationTarget;
  const raw = text(v);
  const at = t.classes.indexOf(lookup(t.aliases, raw) ?? raw);
  return at < 0 ? new EncodeProblem(column, 'unknown-level') : at;
}

/**
 * Extraction by column position, for wide files: a feature that reads one column gets its cell by
 * index, so a row of 50,000 cells costs no per-cell name lookups. `positionOf` gives a column's
 * index in `cells` (every required column must have one). Same results as `extractRow`.
 */
export function cellsExtractor(
  study: Study,
  positionOf: (column: string) => number,
  withTarget = true,
): (cells: readonly RawValue[]) => ExtractedRow | EncodeProblem {
  const n = study.features.length;
  // A feature with a single column and no linked variants reads its cell directly (at ≥ 0); the
  // others get a small record of their columns (at = −1).
  const at = new Int32Array(n).fill(-1);
  const single: string[] = [];
  const readsOf: (readonly [string, number])[][] = study.features.map((f, i) => {
    const columns = featureColumns(f);
    if (columns.length === 1 && !(f.kind === 'genotype' && f.imputeFrom !== undefined)) {
      at[i] = positionOf(columns[0]!);
      single[i] = columns[0]!;
      return [];
    }
    return columns.map((c) => [c, positionOf(c)] as const);
  });
  // A clinician's query has no target column (withTarget false).
  const targetAt = withTarget ? positionOf(targetColumn(study)) : -1;
  const record: RawRecord = {};
  return (cells) => {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const f = study.features[i]!;
      let v: number | EncodeProblem;
      const p = at[i]!;
      if (p >= 0) {
        const cell = cells[p];
        v = f.kind === 'numeric' ? numeric(f, cell) : f.kind === 'binary' ? binaryOf(f, [[single[i]!, cell]]) : levelOf(f, cell, undefined);
      } else {
        for (const [c, q] of readsOf[i]!) record[c] = cells[q];
        v = extractFeature(f, record);
      }
      if (v instanceof EncodeProblem) return v;
      values[i] = v;
    }
    if (!withTarget) return { values, target: Number.NaN };
    const target = extractTarget(study, { [targetColumn(study)]: cells[targetAt] });
    return target instanceof EncodeProblem ? target : { values, target };
  };
}

/** Raw values of a record's features (and target, unless `withTarget` is false). */
export function extractRow(study: Study, record: RawRecord, withTarget = true): ExtractedRow | EncodeProblem {
  const values = new Float64Array(study.features.length);
  for (let i = 0; i < study.features.length; i++) {
    const v = extractFeature(study.features[i]!, record);
    if (v instanceof EncodeProblem) return v;
    values[i] = v;
  }
  if (!withTarget) return { values, target: Number.NaN };
  const target = extractTarget(study, record);
  return target instanceof EncodeProblem ? target : { values, target };
}
