// The site's own rows: read the CSV, encode every row with the study's preprocessing and split it
// into a training part and a held-out part. Patient values never leave this module: errors and
// counts name columns and problem kinds only, never a cell.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as aq from 'arquero';
import { FedrxError } from '../shared/errors.js';
import { EncodeProblem, encodeFeatures, encodeTarget, type RawRecord, type RawValue } from '../shared/preprocess.js';
import { inputDim, requiredColumns, type Study } from '../shared/study.js';
import { holdoutSplit } from '../shared/holdout.js';

export interface DataPart {
  /** Row-major inputs, n × width. */
  x: Float32Array;
  /** Targets in model space: standardised transformed value, or class index. */
  y: Float32Array;
  n: number;
}

export interface LocalData {
  train: DataPart;
  test: DataPart;
  width: number;
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
}

export async function loadLocalData(file: string, study: Study, opts: LoadOptions): Promise<LocalData> {
  let text = await readFile(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // spreadsheet exports often start with a BOM
  // autoType off: every cell stays a string, the study's preprocessing decides what it means.
  const table = aq.fromCSV(text, { autoType: false });
  const totalRows = table.numRows();
  const present = new Set(table.columnNames());
  const required = requiredColumns(study);
  const sourceOf = (col: string): string => opts.columnMap?.[col] ?? col;

  const missing = required.filter((c) => !present.has(sourceOf(c)));
  if (missing.length > 0) {
    const named = missing.map((c) => (sourceOf(c) === c ? `"${c}"` : `"${c}" (mapped to "${sourceOf(c)}")`));
    throw new FedrxError(
      'E_CSV_MISSING_COLUMN',
      `site CSV ${path.basename(file)} (${totalRows} rows) lacks required column${missing.length > 1 ? 's' : ''} ${named.join(', ')}`,
      { missing, rows: totalRows },
    );
  }

  // Mapping applied here: record keys are study names, values come from the mapped CSV column.
  const columns = required.map((c) => [c, table.getter(sourceOf(c))] as const);
  const width = inputDim(study);
  const xs: Float32Array[] = [];
  const ys: number[] = [];
  const dropped: Record<string, number> = {};
  const record: RawRecord = {};
  for (let row = 0; row < totalRows; row++) {
    for (const [name, get] of columns) record[name] = get(row) as RawValue;
    const x = encodeFeatures(study, record, width);
    const y = x instanceof EncodeProblem ? x : encodeTarget(study, record[study.target.name]);
    const problem = x instanceof EncodeProblem ? x : y instanceof EncodeProblem ? y : null;
    if (problem !== null) {
      const key = `${problem.column}:${problem.kind}`;
      dropped[key] = (dropped[key] ?? 0) + 1;
      continue;
    }
    xs.push(x as Float32Array);
    ys.push(y as number);
  }

  const usable = xs.length;
  // Both parts need a row: one to train on, one to evaluate on.
  const minRows = Math.max(2, study.minRows ?? 10);
  if (usable < minRows) {
    const why = Object.entries(dropped).map(([k, n]) => `${k} ×${n}`);
    throw new FedrxError(
      'E_CSV_TOO_FEW_ROWS',
      `site CSV ${path.basename(file)} has ${usable} usable rows of ${totalRows}, the study needs ${minRows}` +
        (why.length > 0 ? `; dropped: ${why.join(', ')}` : ''),
      { usable, rows: totalRows, minRows, dropped },
    );
  }

  const split = holdoutSplit(usable, study.holdout.fraction, study.holdout.seed, opts.siteId);
  return {
    test: gather(xs, ys, split.test, width),
    train: gather(xs, ys, split.train, width),
    width,
    dropped,
    totalRows,
  };
}

function gather(xs: readonly Float32Array[], ys: readonly number[], rows: readonly number[], width: number): DataPart {
  const n = rows.length;
  const x = new Float32Array(n * width);
  const y = new Float32Array(n);
  rows.forEach((r, i) => {
    x.set(xs[r]!, i * width);
    y[i] = ys[r]!;
  });
  return { x, y, n };
}
