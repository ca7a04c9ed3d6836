import { describe, expect, it } from 'vitest';
import { csvPartitionData, partitionRows, type PartitionData } from '../../datasets/partition-rows.js';
import { readCsv } from '../../shared/csv.js';
import { thrownCode } from '../helpers/error-code.js';

const table = (columns: Record<string, (string | number)[]>): PartitionData => ({
  rowCount: Object.values(columns)[0]?.length ?? 0,
  column: (name) => (Object.hasOwn(columns, name) ? columns[name] : undefined),
});

const covers = (parts: { rows: number[] }[], n: number): boolean =>
  JSON.stringify(parts.flatMap((p) => p.rows).sort((a, b) => a - b)) === JSON.stringify(Array.from({ length: n }, (_, i) => i));

describe('partitionRows', () => {
  it('by column: one site per value, numbers in numeric order', () => {
    const data = table({ site: ['2', '10', '2', '1'] });
    expect(partitionRows(data, { by: 'column', column: 'site' })).toEqual([
      { site: '1', rows: [3] },
      { site: '2', rows: [0, 2] },
      { site: '10', rows: [1] },
    ]);
    expect(partitionRows(table({ h: ['b', 'a', 'b'] }), { by: 'column', column: 'h' })).toEqual([
      { site: 'a', rows: [1] },
      { site: 'b', rows: [0, 2] },
    ]);
  });

  it('by column: a row without a value is refused, naming the column, a count and the first row', () => {
    let message = '';
    try {
      partitionRows(table({ site: ['1', '', '2', ''] }), { by: 'column', column: 'site' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('column site is empty in 2 row(s) (first: row 2): each row needs a site');
  });

  it('IID: a seeded shuffle dealt into sizes that differ by at most one', () => {
    const data = table({ x: Array.from({ length: 10 }, (_, i) => i) });
    const parts = partitionRows(data, { by: 'iid', sites: 3, seed: 1 });
    expect(parts.map((p) => p.site)).toEqual(['site-1', 'site-2', 'site-3']);
    expect(parts.map((p) => p.rows.length)).toEqual([4, 3, 3]);
    expect(covers(parts, 10)).toBe(true);
    expect(partitionRows(data, { by: 'iid', sites: 3, seed: 1 })).toEqual(parts);
    expect(partitionRows(data, { by: 'iid', sites: 3, seed: 2 })).not.toEqual(parts);
  });

  it('label skew of a classification target: Dirichlet over its classes, 0/1 codes as classes', () => {
    const y = Array.from({ length: 1000 }, (_, i) => i % 2);
    const parts = partitionRows(table({ y }), { by: 'label-skew', task: 'classification', column: 'y', sites: 8, seed: 3, alpha: 0.05 });
    expect(covers(parts, 1000)).toBe(true);
    // α = 0.05: most sites hold one class almost only.
    const pure = parts.filter((p) => Math.max(...[0, 1].map((c) => p.rows.filter((r) => y[r] === c).length)) / p.rows.length > 0.9);
    expect(pure.length).toBeGreaterThanOrEqual(6);
  });

  it('label skew of a regression target: its quantile bins as classes', () => {
    const dose = Array.from({ length: 600 }, (_, i) => String(10 + (i * 7919) % 600 / 10));
    const parts = partitionRows(table({ dose }), { by: 'label-skew', task: 'regression', column: 'dose', sites: 6, seed: 4, alpha: 0.1, bins: 4 });
    expect(covers(parts, 600)).toBe(true);
    // Under a small α the sites' mean doses spread far wider than IID sites' would (all near 40).
    const means = parts.map((p) => p.rows.reduce((a, r) => a + Number(dose[r]), 0) / p.rows.length);
    expect(Math.max(...means) - Math.min(...means)).toBeGreaterThan(15);
    expect(thrownCode(() => partitionRows(table({ dose: ['1', 'high'] }), { by: 'label-skew', task: 'regression', column: 'dose', sites: 2, seed: 1, alpha: 1 }))).toBe('E_BAD_PARTITION');
  });

  it("covariate skew: a numeric column's bins, or a categorical column's levels", () => {
    const age = Array.from({ length: 400 }, (_, i) => i % 80);
    const numeric = partitionRows(table({ age }), { by: 'covariate-skew', column: 'age', sites: 5, seed: 5, alpha: 0.05 });
    expect(covers(numeric, 400)).toBe(true);
    const race = Array.from({ length: 400 }, (_, i) => ['White', 'Asian', 'Black'][i % 3]!);
    const levels = partitionRows(table({ race }), { by: 'covariate-skew', column: 'race', sites: 5, seed: 5, alpha: 0.05, minRows: 10 });
    expect(covers(levels, 400)).toBe(true);
    expect(Math.min(...levels.map((p) => p.rows.length))).toBeGreaterThanOrEqual(10);
  });

  it('refuses α ≤ 0 or NaN, more sites than rows, a column not in the data and bad counts (E_BAD_PARTITION)', () => {
    const data = table({ y: ['1', '2', '3'] });
    const skew = { by: 'covariate-skew', column: 'y', seed: 1 } as const;
    expect(thrownCode(() => partitionRows(data, { ...skew, sites: 2, alpha: 0 }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { ...skew, sites: 2, alpha: -0.5 }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { ...skew, sites: 2, alpha: Number.NaN }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { by: 'iid', sites: 4, seed: 1 }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { by: 'iid', sites: 2, seed: 1, minRows: 2 }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { by: 'iid', sites: 0, seed: 1 }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { by: 'iid', sites: 2, seed: 1, minRows: 0 }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { by: 'column', column: 'hospital' }))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionRows(data, { ...skew, column: 'age', sites: 2, alpha: 1 }))).toBe('E_BAD_PARTITION');
    let message = '';
    try {
      partitionRows(data, { by: 'iid', sites: 4, seed: 1 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('4 sites of at least 1 row(s) need 4 rows; the data has 3');
  });
});

describe('csvPartitionData', () => {
  it('keeps only the named columns of a CSV', () => {
    const data = csvPartitionData(readCsv('name,dose,site\nann,30,2\nbob,35,1\n', 'x.csv'), ['site', 'dose', 'absent']);
    expect(data.rowCount).toBe(2);
    expect(Array.from(data.column('site')!)).toEqual(['2', '1']);
    expect(Array.from(data.column('dose')!)).toEqual(['30', '35']);
    expect(data.column('name')).toBeUndefined();
    expect(data.column('absent')).toBeUndefined();
    expect(partitionRows(data, { by: 'column', column: 'site' }).map((p) => p.rows)).toEqual([[1], [0]]);
  });
});
