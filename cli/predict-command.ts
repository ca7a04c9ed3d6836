// `fedrx predict`: asks the coordinator which columns the served model reads, then sends those
// and nothing else. Names, record numbers, notes and every other column of the clinic's file
// stay on this machine; so do row ids, which the answers are matched to by position.

import { readFileSync, writeFileSync } from 'node:fs';
import { toCsv } from '../datasets/write-csv.js';
import { csvRecords } from '../shared/csv-records.js';
import { FedrxError, type CodedMessage } from '../shared/errors.js';
import { nameSome } from '../shared/expand-study.js';
import { apiClient } from './remote-commands.js';
import type { BatchPredictResponse, ModelInputs } from './client/client.js';
import { scoreTable, tableCell, type Cell } from './predict-upload.js';

export interface PredictOptions {
  coordinator: string;
  input: string;
  out?: string;
  run?: string;
  model?: string;
  token?: string;
  tlsCa?: string;
}

type RowAnswer = BatchPredictResponse['predictions'][number];

export async function predictCommand(o: PredictOptions): Promise<void> {
  const client = apiClient(o.coordinator, o);
  const ref = { ...(o.run === undefined ? {} : { runId: o.run }), ...(o.model === undefined ? {} : { modelHash: o.model }) };
  // The model that will answer is fixed here: every request below names it.
  const inputs = await client.modelInputs(ref);
  if (/\.csv$/i.test(o.input)) return predictCsv(o, inputs, (columns, rows) => scoreTable(client, { modelHash: inputs.modelHash }, columns, rows));
  const record = readJsonRecord(o.input);
  const features = Object.fromEntries(inputs.columns.filter((c) => Object.hasOwn(record, c)).map((c) => [c, record[c]]));
  const res = await client.predict({ modelHash: inputs.modelHash, features });
  console.log(JSON.stringify(res, null, 2));
}

function readJsonRecord(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FedrxError('E_BAD_REQUEST', `cannot read JSON from ${path}: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FedrxError('E_BAD_REQUEST', `${path} must hold one JSON object of feature columns`);
  }
  return value as Record<string, unknown>;
}

type Score = (columns: string[], rows: Iterable<Cell[]>) => Promise<{ modelHash: string; predictions: RowAnswer[] }>;

/**
 * A clinic's list: one line per data row, in file order, beside its id (the study's id column,
 * else the row number). A row with the wrong number of cells is not sent (E_MALFORMED_ROW); a
 * row the model cannot score says why; the others are scored. A file that lacks an input column
 * is refused before anything is sent: no row is scored with a guess for a whole column.
 */
async function predictCsv(o: PredictOptions, inputs: ModelInputs, score: Score): Promise<void> {
  const records = csvRecords(readFileSync(o.input, 'utf8'));
  const first = records.next();
  if (first.done === true) throw new FedrxError('E_BAD_REQUEST', `${o.input} is empty`);
  const header: string[] = first.value.cells;
  const at = new Map(header.map((c, i) => [c, i]));
  const missing = inputs.columns.filter((c) => !at.has(c));
  if (missing.length > 0) {
    throw new FedrxError(
      'E_CSV_MISSING_COLUMN',
      `${o.input} lacks ${missing.length} input column(s) of model ${inputs.modelHash}: ${nameSome(missing, 20)}; no row was sent`,
    );
  }
  const picks = inputs.columns.map((c) => at.get(c)!);
  const idAt = inputs.idColumn === undefined ? undefined : at.get(inputs.idColumn);
  /** Per data row: its id, and either its place among the rows sent or why it was not sent. */
  const rows: { id: string; sent?: number; error?: CodedMessage }[] = [];
  let sent = 0;
  function* wellFormed(): Generator<Cell[]> {
    for (const r of records) {
      const number = rows.length + 1;
      if (r.cells.length !== header.length) {
        const why = r.unclosedQuote ? 'a quoted cell is never closed' : `${r.cells.length} cells, the header has ${header.length}`;
        rows.push({ id: String(number), error: { code: 'E_MALFORMED_ROW', message: `line ${r.line}: ${why}` } });
        continue;
      }
      const id = idAt === undefined || r.cells[idAt] === '' ? String(number) : r.cells[idAt]!;
      rows.push({ id, sent: sent++ });
      yield picks.map((p) => tableCell(r.cells[p]!));
    }
  }
  const { predictions } = await score(inputs.columns, wellFormed());
  if (rows.length === 0) throw new FedrxError('E_BAD_REQUEST', `${o.input} has no rows`);
  writePredictions(o, inputs, rows.map((r) => ({ id: r.id, answer: r.sent === undefined ? { index: -1, error: r.error! } : predictions[r.sent]! })));
}

function writePredictions(o: PredictOptions, inputs: ModelInputs, lines: { id: string; answer: RowAnswer }[]): void {
  const probabilityColumns = (inputs.classes ?? []).map((c) => `probability_${c}`);
  // The calibrated interval (regression) or prediction set (classes joined by "|"), and its coverage.
  const calibrated = inputs.task === 'regression' ? ['lower', 'upper', 'coverage'] : ['set', 'coverage'];
  const columns = ['id', 'prediction', 'unit', ...probabilityColumns, ...calibrated, 'error_code', 'error', 'model_hash'];
  const out = lines.map(({ id, answer: p }) => ({
    id,
    prediction: p.prediction ?? '',
    unit: p.unit ?? '',
    ...Object.fromEntries((inputs.classes ?? []).map((c, i) => [probabilityColumns[i]!, p.probabilities?.[c]?.toFixed(4) ?? ''])),
    lower: p.interval?.lower ?? '',
    upper: p.interval?.upper ?? '',
    set: p.set?.join('|') ?? '',
    coverage: p.interval?.coverage ?? p.coverage ?? '',
    error_code: p.error?.code ?? '',
    error: p.error?.message ?? '',
    model_hash: inputs.modelHash,
  }));
  const csv = toCsv(out, columns);
  if (o.out === undefined) process.stdout.write(csv);
  else writeFileSync(o.out, csv);
  const failed = out.filter((r) => r.error_code !== '').length;
  console.error(`${out.length - failed} of ${out.length} rows scored with model ${inputs.modelHash}${failed > 0 ? `; ${failed} could not be scored (see the error column)` : ''}${o.out ? `; written to ${o.out}` : ''}`);
}
