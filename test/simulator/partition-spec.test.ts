import { describe, expect, it } from 'vitest';
import { parsePartition, partitionLabel, partitionSource } from '../../simulator/partition-spec.js';
import { tableOfCsv } from '../../simulator/source-table.js';
import { thrownCode } from '../helpers/error-code.js';

const table = tableOfCsv('site,dose,age\nA,10,30\nA,20,40\nB,30,50\nB,40,60\nC,50,70\n', 'small.csv');
const target = { column: 'dose', regression: true };

describe('--partition', () => {
  it('reads each form and says it back as given', () => {
    for (const text of ['iid', 'column:site', 'dirichlet-label:0.5', 'dirichlet-covariate:age:2']) expect(partitionLabel(parsePartition(text))).toBe(text);
  });

  it('refuses a Dirichlet α of zero, below zero or not a number, and unknown forms (E_BAD_PARTITION)', () => {
    for (const text of ['dirichlet-label:0', 'dirichlet-label:-1', 'dirichlet-label:abc', 'dirichlet-label:', 'dirichlet-covariate:age:0', 'dirichlet-covariate::1', 'shards', 'column:']) {
      expect(thrownCode(() => parsePartition(text)), text).toBe('E_BAD_PARTITION');
    }
  });

  it('splits by a column into one site per value, whatever --sites says', () => {
    expect(partitionSource(table, parsePartition('column:site'), 99, 's', target)).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('splits IID into every row once, near-equal sizes, the same for the same seed', () => {
    const parts = partitionSource(table, parsePartition('iid'), 2, 'seed-1', target);
    expect(parts.map((p) => p.length).sort()).toEqual([2, 3]);
    expect(parts.flat().sort()).toEqual([0, 1, 2, 3, 4]);
    expect(partitionSource(table, parsePartition('iid'), 2, 'seed-1', target)).toEqual(parts);
  });

  it('refuses more sites than rows, and a column the data does not have', () => {
    expect(thrownCode(() => partitionSource(table, parsePartition('iid'), 6, 's', target))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionSource(table, parsePartition('dirichlet-label:1'), 6, 's', target))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => partitionSource(table, parsePartition('column:hospital'), 2, 's', target))).toBe('E_BAD_PARTITION');
  });

  it('gives every site at least one row under strong label skew', () => {
    const parts = partitionSource(table, parsePartition('dirichlet-label:0.05'), 5, 's', target);
    expect(parts).toHaveLength(5);
    expect(parts.every((p) => p.length === 1)).toBe(true);
  });
});
