import { describe, expect, it } from 'vitest';
import { isNumericColumn, levelLabels, quantileLabels } from '../../datasets/quantile-bins.js';
import { thrownCode } from '../helpers/error-code.js';

describe('row labels for a Dirichlet split', () => {
  it('cuts a numeric column at its quantiles; an empty cell is its own label', () => {
    // Sorted non-empty values 1 2 3 4 5; 2 bins: one edge, the value at rank ⌊5/2⌋ = 2, i.e. 3.
    const { labels, count } = quantileLabels(['5', '1', '3', 2, '4', ''], 2, 'dose');
    expect(Array.from(labels)).toEqual([1, 0, 0, 0, 1, 2]);
    expect(count).toBe(3);
  });

  it('keeps ties in one bin: a 0/1 column gives two labels whatever the bin count', () => {
    // m = 5, 4 bins: edges at ranks 1, 2, 3 → 0, 0, 1; a 0 has no edge below it, a 1 has two.
    const { labels } = quantileLabels([0, 0, 0, 1, 1], 4, 'flag');
    expect(Array.from(labels)).toEqual([0, 0, 0, 2, 2]);
  });

  it('gives each level its label in order of first appearance', () => {
    const { labels, count } = levelLabels(['A', 'B', 'A', '']);
    expect(Array.from(labels)).toEqual([0, 1, 0, 2]);
    expect(count).toBe(3);
  });

  it('tells numeric columns (empty cells allowed) from others', () => {
    expect(isNumericColumn(['1', '', 2.5, '-3e2'])).toBe(true);
    expect(isNumericColumn(['1', 'male'])).toBe(false);
  });

  it('refuses non-numeric cells and fewer than 2 bins, naming the column and a count', () => {
    let message = '';
    try {
      quantileLabels(['1', 'high', 'low'], 3, 'dose');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('column dose holds 2 non-numeric cells: it cannot be cut into quantile bins');
    expect(thrownCode(() => quantileLabels(['1', 'x'], 3, 'dose'))).toBe('E_BAD_PARTITION');
    expect(thrownCode(() => quantileLabels(['1', '2'], 1, 'dose'))).toBe('E_BAD_PARTITION');
  });
});
