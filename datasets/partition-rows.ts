/**
 * Splitting one table's rows among simulated sites. Returns row indices per site, never rows.
 *
 *   partitionRows(data, { by: 'column', column: 'Project Site' })              // one site per value
 *   partitionRows(data, { by: 'iid', sites: 100, seed: 1 })                    // seeded shuffle, sizes differ by ≤ 1
 *   partitionRows(data, { by: 'label-skew', sites: 100, seed: 1, alpha: 0.5, column: 'dose', task: 'regression' })
 *   partitionRows(data, { by: 'covariate-skew', sites: 100, seed: 1, alpha: 0.5, column: 'Age' })
 *
 * - `column`: sites are the column's distinct values, in numeric order when every value is a
 *   number, else in string order; every row must have one.
 * - `label-skew`: Dirichlet(α) over the target's classes (classification) or its `bins` quantile
 *   bins (regression, default 10) treated as classes (dirichlet-split.ts).
 * - `covariate-skew`: the same over a feature's quantile bins, or its levels when not numeric.
 * Every site of a seeded split gets at least `minRows` rows (default 1). Impossible requests are
 * E_BAD_PARTITION: α ≤ 0 or not finite, more sites (× minRows) than rows, a column not in the
 * data, a regression target with non-numeric cells. Same seed, same split.
 */

import { FedrxError } from '../shared/errors.js';
import type { CsvReader } from '../shared/csv.js';
import { deriveSeed, Prng, type Seed } from '../shared/prng.js';
import { dirichletSplit } from './dirichlet-split.js';
import { siteIdFor } from './partition.js';
import { isNumericColumn, levelLabels, quantileLabels, type RowLabels } from './quantile-bins.js';

/** The table being split, by column: cells as read from a CSV ('' when empty), or numbers. */
export interface PartitionData {
  readonly rowCount: number;
  /** The column's cells, or undefined when the data has no such column. */
  column(name: string): ArrayLike<string | number> | undefined;
}

interface Seeded {
  sites: number;
  seed: Seed;
  /** Rows every site gets at least; default 1. */
  minRows?: number;
}
interface Skewed extends Seeded {
  alpha: number;
  column: string;
  /** Quantile bins of a numeric column; default 10. */
  bins?: number;
}

export type PartitionSpec =
  | { by: 'column'; column: string }
  | ({ by: 'iid' } & Seeded)
  | ({ by: 'label-skew'; task: 'classification' | 'regression' } & Skewed)
  | ({ by: 'covariate-skew' } & Skewed);

export interface SiteRows {
  /** The column's value for a split by column, else site-1, site-2, … */
  site: string;
  /** Row indices into the data, ascending. */
  rows: number[];
}

export const DEFAULT_PARTITION_BINS = 10;

export function partitionRows(data: PartitionData, spec: PartitionSpec): SiteRows[] {
  if (spec.by === 'column') return byColumn(data, spec.column);
  const minRows = spec.minRows ?? 1;
  if (!Number.isInteger(spec.sites) || spec.sites < 1) throw new FedrxError('E_BAD_PARTITION', `sites must be a positive integer, got ${spec.sites}`);
  if (!Number.isInteger(minRows) || minRows < 1) throw new FedrxError('E_BAD_PARTITION', `minRows must be a positive integer, got ${minRows}`);
  if (spec.sites * minRows > data.rowCount) {
    throw new FedrxError('E_BAD_PARTITION', `${spec.sites} sites of at least ${minRows} row(s) need ${spec.sites * minRows} rows; the data has ${data.rowCount}`);
  }
  const rng = new Prng(deriveSeed(spec.seed, 'partition', spec.by));
  const split = spec.by === 'iid' ? iid(data.rowCount, spec.sites, rng) : dirichletSplit(labelsFor(data, spec), spec.sites, spec.alpha, minRows, rng);
  return split.map((rows, i) => ({ site: siteIdFor(i), rows }));
}

/** Only the named columns of a CSV, as PartitionData: the rest of each record is not kept. */
export function csvPartitionData(csv: CsvReader, columns: readonly string[]): PartitionData {
  const wanted = new Map(columns.filter((c) => csv.header.includes(c)).map((c) => [c, [] as string[]]));
  const at = [...wanted.keys()].map((c) => csv.header.indexOf(c));
  let rowCount = 0;
  csv.forEach((cells) => {
    [...wanted.values()].forEach((col, k) => col.push(cells[at[k]!]!));
    rowCount++;
  });
  return { rowCount, column: (name) => wanted.get(name) };
}

function cellsOf(data: PartitionData, column: string): ArrayLike<string | number> {
  const cells = data.column(column);
  if (cells === undefined) throw new FedrxError('E_BAD_PARTITION', `the data has no column ${column} to partition by`);
  return cells;
}

function labelsFor(data: PartitionData, spec: Extract<PartitionSpec, { alpha: number }>): RowLabels {
  const cells = cellsOf(data, spec.column);
  const bins = spec.bins ?? DEFAULT_PARTITION_BINS;
  const binned = spec.by === 'label-skew' ? spec.task === 'regression' : isNumericColumn(cells);
  return binned ? quantileLabels(cells, bins, spec.column) : levelLabels(cells);
}

function iid(n: number, sites: number, rng: Prng): number[][] {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  // Site s takes a contiguous run of the shuffled order: the first n mod S sites one row more.
  const base = Math.floor(n / sites);
  const extra = n % sites;
  let at = 0;
  return Array.from({ length: sites }, (_, s) => {
    const size = base + (s < extra ? 1 : 0);
    const rows = order.slice(at, at + size).sort((a, b) => a - b);
    at += size;
    return rows;
  });
}

function byColumn(data: PartitionData, column: string): SiteRows[] {
  const cells = cellsOf(data, column);
  const groups = new Map<string, number[]>();
  let empty = 0;
  let firstEmpty = -1;
  for (let i = 0; i < cells.length; i++) {
    const key = String(cells[i]!);
    if (key === '' || key === 'NaN') {
      if (empty++ === 0) firstEmpty = i;
      continue;
    }
    const rows = groups.get(key);
    if (rows === undefined) groups.set(key, [i]);
    else rows.push(i);
  }
  if (empty > 0) throw new FedrxError('E_BAD_PARTITION', `column ${column} is empty in ${empty} row(s) (first: row ${firstEmpty + 1}): each row needs a site`);
  const keys = [...groups.keys()];
  const numeric = keys.every((k) => Number.isFinite(Number(k)));
  keys.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  return keys.map((site) => ({ site, rows: groups.get(site)! }));
}
