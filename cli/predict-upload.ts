// Sends a clinic's rows to be scored as tables (column names once, rows as arrays), in requests
// well under the coordinator's body limit, every request naming the model the first one got, so
// one file is never scored by two models.

import { FedrxError } from '../shared/errors.js';
import type { BatchPredictResponse, CoordinatorClient } from './client/client.js';
import { MAX_BATCH_ROWS } from '../coordinator/http/schemas/predict.js';

export type Cell = string | number | boolean | null;
type RowAnswer = BatchPredictResponse['predictions'][number];

/** Half the coordinator's 16 MiB body limit: room for escapes the estimate leaves out. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** A CSV cell as sent: a number when it reads back as the very same text (shorter, parsed once), else the text. */
export function tableCell(text: string): Cell {
  if (text === '') return text;
  const x = Number(text);
  return Number.isFinite(x) && String(x) === text ? x : text;
}

const cellBytes = (v: Cell): number => (typeof v === 'string' ? v.length + 2 : String(v).length) + 1;

/**
 * Scores `rows` (arrays in the order of `columns`) with one model; answers come back in input
 * order with indexes counted over all rows. `onRequest` sees each request's rows once it is answered.
 */
export async function scoreTable(
  client: CoordinatorClient,
  ref: { runId?: string; modelHash?: string },
  columns: string[],
  rows: Iterable<Cell[]>,
  onRequest: (rows: Cell[][]) => void = () => {},
): Promise<{ modelHash: string; predictions: RowAnswer[] }> {
  const predictions: RowAnswer[] = [];
  let modelHash = ref.modelHash;
  let chunk: Cell[][] = [];
  let bytes = 0;
  const send = async (): Promise<void> => {
    const model = modelHash === undefined ? ref : { modelHash };
    const res = await client.predictTable({ ...model, columns, rows: chunk });
    onRequest(chunk);
    modelHash = res.modelHash;
    const offset = predictions.length;
    for (const p of res.predictions) predictions.push({ ...p, index: offset + p.index });
    chunk = [];
    bytes = 0;
  };
  const header = columns.reduce((n, c) => n + c.length + 3, 0);
  for (const row of rows) {
    const size = row.reduce((n: number, v) => n + cellBytes(v), 2);
    if (chunk.length > 0 && (header + bytes + size > MAX_REQUEST_BYTES || chunk.length >= MAX_BATCH_ROWS)) await send();
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) await send();
  if (modelHash === undefined) throw new FedrxError('E_BAD_REQUEST', 'no rows to score, and no model named');
  return { modelHash, predictions };
}
