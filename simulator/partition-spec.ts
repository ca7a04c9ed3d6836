// `--partition` of `fedrx simulate`: how the source rows are split among the virtual sites
// (datasets/partition-rows.ts does the splitting).
//   iid                              seeded shuffle, sizes within one row
//   column:NAME                      one site per value of a column (e.g. column:site); --sites is ignored
//   dirichlet-label:ALPHA            label skew: each site's share of each class (or target quantile) ~ Dir(α)
//   dirichlet-covariate:NAME:ALPHA   the same over a column's quantiles or levels

import { FedrxError } from '../shared/errors.js';
import { partitionRows as splitRows, type PartitionData, type PartitionSpec } from '../datasets/partition-rows.js';
import type { SourceTable } from './source-table.js';

export type PartitionChoice =
  | { kind: 'iid' }
  | { kind: 'column'; column: string }
  | { kind: 'dirichlet-label'; alpha: number }
  | { kind: 'dirichlet-covariate'; column: string; alpha: number };

export function parsePartition(text: string): PartitionChoice {
  const [kind, ...rest] = text.split(':');
  const alphaOf = (s: string | undefined): number => {
    const a = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(a) || a <= 0) throw new FedrxError('E_BAD_PARTITION', `--partition ${text}: the Dirichlet concentration α must be a number > 0`);
    return a;
  };
  if (kind === 'iid' && rest.length === 0) return { kind: 'iid' };
  if (kind === 'column' && rest.length === 1 && rest[0] !== '') return { kind: 'column', column: rest[0]! };
  if (kind === 'dirichlet-label' && rest.length === 1) return { kind: 'dirichlet-label', alpha: alphaOf(rest[0]) };
  if (kind === 'dirichlet-covariate' && rest.length === 2 && rest[0] !== '') return { kind: 'dirichlet-covariate', column: rest[0]!, alpha: alphaOf(rest[1]) };
  throw new FedrxError('E_BAD_PARTITION', `--partition ${text}: expected iid, column:NAME, dirichlet-label:ALPHA or dirichlet-covariate:NAME:ALPHA`);
}

export const partitionLabel = (p: PartitionChoice): string =>
  p.kind === 'iid' ? 'iid' : p.kind === 'column' ? `column:${p.column}` : p.kind === 'dirichlet-label' ? `dirichlet-label:${p.alpha}` : `dirichlet-covariate:${p.column}:${p.alpha}`;

/** What the split needs of the study: its target column and whether it is a regression. */
export interface TargetOf {
  column: string;
  regression: boolean;
}

/** Row indices per site; `sites` is ignored by a split by column, which makes one site per value. */
export function partitionSource(source: SourceTable, p: PartitionChoice, sites: number, seed: string, target: TargetOf): number[][] {
  const seeded = { sites, seed };
  const spec: PartitionSpec =
    p.kind === 'iid'
      ? { by: 'iid', ...seeded }
      : p.kind === 'column'
        ? { by: 'column', column: p.column }
        : p.kind === 'dirichlet-label'
          ? { by: 'label-skew', ...seeded, alpha: p.alpha, column: target.column, task: target.regression ? 'regression' : 'classification' }
          : { by: 'covariate-skew', ...seeded, alpha: p.alpha, column: p.column };
  return splitRows(tableData(source), spec).map((s) => s.rows);
}

/** The source's columns, as the splitter reads them. */
function tableData(source: SourceTable): PartitionData {
  const columns = new Map<string, string[]>();
  return {
    rowCount: source.rows.length,
    column(name) {
      const at = source.header.indexOf(name);
      if (at < 0) return undefined;
      let cells = columns.get(name);
      if (cells === undefined) {
        cells = source.rows.map((r) => r[at]!);
        columns.set(name, cells);
      }
      return cells;
    },
  };
}
