// Rows as labels for a Dirichlet split: a column's levels, or a numeric column cut at its
// quantiles. Ties stay in one bin (edges are values, not ranks), so a 0/1 column gives two bins
// whatever the bin count. An empty cell is its own label. Pure.

import { FedrxError } from '../shared/errors.js';

export interface RowLabels {
  /** Each row's label, 0 … count − 1. */
  labels: Int32Array;
  count: number;
}

const isEmpty = (cell: string | number): boolean => cell === '' || (typeof cell === 'number' && Number.isNaN(cell));

/** Whether every non-empty cell reads as a finite number. */
export function isNumericColumn(cells: ArrayLike<string | number>): boolean {
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    if (!isEmpty(c) && !Number.isFinite(Number(c))) return false;
  }
  return true;
}

/** One label per distinct cell, in order of first appearance. */
export function levelLabels(cells: ArrayLike<string | number>): RowLabels {
  const ids = new Map<string, number>();
  const labels = new Int32Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const key = String(cells[i]!);
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    labels[i] = id;
  }
  return { labels, count: ids.size };
}

/**
 * `bins` quantile bins of a numeric column: the edges are the values at ranks ⌊k·m/bins⌋ of the m
 * sorted non-empty values (k = 1 … bins − 1), and a value's bin is the number of edges below it.
 * Empty cells get label `bins`. `column` names the column in errors.
 */
export function quantileLabels(cells: ArrayLike<string | number>, bins: number, column: string): RowLabels {
  if (!Number.isInteger(bins) || bins < 2) throw new FedrxError('E_BAD_PARTITION', `bins must be an integer ≥ 2, got ${bins}`);
  const values = new Float64Array(cells.length);
  let bad = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    values[i] = isEmpty(c) ? Number.NaN : Number(c);
    if (!isEmpty(c) && !Number.isFinite(values[i]!)) bad++;
  }
  if (bad > 0) throw new FedrxError('E_BAD_PARTITION', `column ${column} holds ${bad} non-numeric cells: it cannot be cut into quantile bins`);
  const sorted = values.filter((v) => !Number.isNaN(v)).sort();
  const edges = Array.from({ length: bins - 1 }, (_, k) => sorted[Math.floor(((k + 1) * sorted.length) / bins)]!);
  const labels = new Int32Array(cells.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    labels[i] = Number.isNaN(v) ? bins : edges.filter((e) => e < v).length;
  }
  return { labels, count: bins + 1 };
}
