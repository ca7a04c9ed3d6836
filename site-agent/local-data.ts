// The site's own rows: read the CSV (shared/csv.ts), read every row into the study's raw values,
// split them into a training part, a validation part (when the study asks) and a held-out part,
// and encode them once the run's preprocessing is known.
// Patient values never leave this module: errors and counts name columns and problem kinds only.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readCsv } from '../shared/csv.js';
import { FedrxError } from '../shared/errors.js';
import { expandStudy, matchGroups, nameSome } from '../shared/expand-study.js';
import { cellsExtractor, EncodeProblem, inverseTransform, type ExtractedRow } from '../shared/extract.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { encodeTarget, inputEncoder } from '../shared/preprocess.js';
import { DEFAULT_MIN_ROWS, groupingFeature, inputDim, isRegression, requiredColumns, type Study } from '../shared/study.js';
import { calibrationSplit, DEFAULT_CALIBRATION_FRACTION, siteSplit } from '../shared/holdout.js';

export interface DataPart {
  /** Row-major inputs, n × width. */
  x: Float32Array;
  /** Targets in model space: standardised transformed value, or class index. */
  y: Float32Array;
  /** Regression: targets in their own unit (e.g. mg/week), for metrics. */
  actual: Float64Array;
  n: number;
  /** With a study groupBy: each row's level index of that feature (figures per group). */
  group?: Int32Array;
}

/** A site's usable rows, split, before preprocessing: statistics are computed over `train`. */
export interface SiteRows {
  /** The study the rows were read with: feature groups expanded to this CSV's matching columns. */
  study: Study;
  /** The rows trained on (the training part minus validation). */
  train: ExtractedRow[];
  /** Chooses the run's best round; empty when the study has no validation. */
  validation: ExtractedRow[];
  /**
   * Without a validation part: the seeded share of the training part whose scores calibrate
   * prediction intervals (empty with a validation part, which calibrates instead, or at a site too
   * small to spare rows).
   */
  calibration: ExtractedRow[];
  test: ExtractedRow[];
  /** Rows left out, per "column:problem" (e.g. "weekly_dose_mg:out-of-range"). */
  dropped: Record<string, number>;
  /** Data rows in the file, usable or not. */
  totalRows: number;
}

export interface LoadOptions {
  /** Salts the hold-out shuffle so sites with similar files still split differently. */
  siteId: string;
  /** study column → CSV column, for sites whose export names columns differently. */
  columnMap?: Record<string, string>;
  /**
   * Leave rows with a value of the wrong type, out of range or of an unknown level out (counted)
   * instead of refusing the file. Off by default: such values usually mean a column is mapped
   * wrong or exported in another unit, which dropping rows would hide.
   */
  dropBadRows?: boolean;
}

/** Problems that mean the data does not fit the study; a missing value only means an unusable row. */
const MISFIT: ReadonlySet<EncodeProblem['kind']> = new Set(['not-a-number', 'out-of-range', 'unknown-level']);
const LINES_SHOWN = 5;
/** Missing columns listed in an error's details (the message names fewer; the count says how many). */
const MISSING_LISTED = 100;

/** `column "age_years": 2 rows out of range (lines 3, 9)`: line numbers count the header as line 1. */
function misfitMessage(lines: ReadonlyMap<string, number[]>): string {
  return [...lines]
    .map(([key, at]) => {
      const [column, kind] = key.split(':') as [string, string];
      const shown = at.slice(0, LINES_SHOWN).join(', ') + (at.length > LINES_SHOWN ? ', …' : '');
      return `column "${column}": ${at.length} row${at.length > 1 ? 's' : ''} ${kind === 'unknown-level' ? 'with a level the study does not know' : kind.replace(/-/g, ' ')} (line${at.length > 1 ? 's' : ''} ${shown})`;
    })
    .join('; ');
}

export async function loadSiteRows(file: string, study: Study, opts: LoadOptions): Promise<SiteRows> {
  const csv = readCsv(await readFile(file, 'utf8'), path.basename(file));
  const sourceOf = (col: string): string => opts.columnMap?.[col] ?? col;
  // Feature groups (statistics of round 0) match the header, seen under the study's names where a
  // column is mapped; a run's tasks arrive expanded.
  const studyNameOf = new Map(Object.entries(opts.columnMap ?? {}).map(([studyCol, csvCol]) => [csvCol, studyCol]));
  const used = (study.groups ?? []).length > 0 ? expandStudy(study, matchGroups(study, csv.header.map((h) => studyNameOf.get(h) ?? h))) : study;
  const at = new Map(csv.header.map((c, i) => [c, i]));
  const required = requiredColumns(used);

  const missing = required.filter((c) => !at.has(sourceOf(c)));
  if (missing.length > 0) {
    let rows = 0;
    csv.forEach(() => rows++);
    // Only the missing columns are named (the first few of a long list), with their count.
    throw new FedrxError(
      'E_CSV_MISSING_COLUMN',
      `site CSV ${path.basename(file)} (${rows} rows) lacks ${missing.length > 1 ? `${missing.length} required columns` : 'required column'} ${nameSome(missing, undefined, (c) => (sourceOf(c) === c ? `"${c}"` : `"${c}" (mapped to "${sourceOf(c)}")`))}`,
      { missing: missing.slice(0, MISSING_LISTED), rows, ...(missing.length > MISSING_LISTED ? { count: missing.length } : {}) },
    );
  }

  // Mapping applied here: record keys are study column names, values come from the mapped CSV column.
  const extract = cellsExtractor(used, (c) => at.get(sourceOf(c))!);
  const rows: ExtractedRow[] = [];
  const dropped: Record<string, number> = {};
  const misfits = new Map<string, number[]>();
  let totalRows = 0;
  csv.forEach((cells, line) => {
    totalRows++;
    const extracted = extract(cells);
    if (extracted instanceof EncodeProblem) {
      const key = `${extracted.column}:${extracted.kind}`;
      dropped[key] = (dropped[key] ?? 0) + 1;
      if (MISFIT.has(extracted.kind)) {
        const lines = misfits.get(key);
        if (lines === undefined) misfits.set(key, [line]);
        else lines.push(line);
      }
      return;
    }
    rows.push(extracted);
  });
  if (misfits.size > 0 && opts.dropBadRows !== true) {
    throw new FedrxError(
      'E_CSV_BAD_VALUE',
      `site CSV ${path.basename(file)} does not fit study ${used.name}: ${misfitMessage(misfits)}. ` +
        'Fix the export or the column mapping, or start the agent with --drop-bad-rows to leave such rows out.',
      { rows: totalRows, problems: Object.fromEntries([...misfits].map(([k, at]) => [k, at.length])) },
    );
  }

  // Both parts need a row: one to train on, one to evaluate on; and the rows trained on, which the
  // statistics describe, need the study's minimum, so small groups are never exposed.
  const minRows = Math.max(1, study.minRows ?? DEFAULT_MIN_ROWS);
  const held = siteSplit(rows.length, study.holdout, study.validation?.fraction, opts.siteId);
  const split =
    study.validation === undefined
      ? { ...held, ...calibrationSplit(held.train, study.calibration?.fraction ?? DEFAULT_CALIBRATION_FRACTION, study.holdout.seed, opts.siteId, minRows) }
      : { ...held, calibration: [] };
  if (rows.length < 2 || split.train.length < minRows) {
    const why = Object.entries(dropped).map(([k, n]) => `${k} ×${n}`);
    throw new FedrxError(
      'E_CSV_TOO_FEW_ROWS',
      `site CSV ${path.basename(file)} has ${rows.length} usable rows of ${totalRows}, ${split.train.length} of them for training` +
        (split.validation.length > 0 ? ` (${split.validation.length} more for validation)` : '') +
        `; the study needs ${minRows} training rows` +
        (why.length > 0 ? `; dropped: ${why.join(', ')}` : ''),
      { usable: rows.length, train: split.train.length, rows: totalRows, minRows, dropped },
    );
  }
  const pick = (idx: number[]): ExtractedRow[] => idx.map((i) => rows[i]!);
  return { study: used, test: pick(split.test), validation: pick(split.validation), calibration: pick(split.calibration), train: pick(split.train), dropped, totalRows };
}

/** Model-ready arrays of `rows` under the run's preprocessing. */
export function encodePart(study: Study, prep: Preprocessing, rows: readonly ExtractedRow[]): DataPart {
  const width = inputDim(study);
  const encode = inputEncoder(study, prep);
  const n = rows.length;
  const x = new Float32Array(n * width);
  const y = new Float32Array(n);
  const actual = new Float64Array(n);
  rows.forEach((r, i) => {
    encode(r, x, i * width);
    y[i] = encodeTarget(prep, r);
    actual[i] = isRegression(study) ? inverseTransform(study.target, r.target) : r.target;
  });
  const by = groupingFeature(study);
  return { x, y, actual, n, ...(by === null ? {} : { group: Int32Array.from(rows, (r) => r.values[by.index]!) }) };
}
