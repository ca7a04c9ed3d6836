import { describe, expect, it } from 'vitest';
import { dirichletSplit } from '../../datasets/dirichlet-split.js';
import { Prng } from '../../shared/prng.js';
import { thrownCode } from '../helpers/error-code.js';

/** n rows, labels 0 … k − 1 in turn. */
const cycling = (n: number, k: number) => ({ labels: Int32Array.from({ length: n }, (_, i) => i % k), count: k });

/** Share of each site's rows that belong to its most frequent label, averaged over sites. */
function meanTopShare(split: number[][], labels: Int32Array, k: number): number {
  const shares = split.map((rows) => {
    const counts = new Array<number>(k).fill(0);
    for (const r of rows) counts[labels[r]!]!++;
    return Math.max(...counts) / rows.length;
  });
  return shares.reduce((a, b) => a + b, 0) / shares.length;
}

describe('dirichletSplit', () => {
  it('gives every row to exactly one site, in ascending order, the same for the same seed', () => {
    const rows = cycling(300, 3);
    const split = dirichletSplit(rows, 7, 0.5, 1, new Prng('s'));
    expect(split.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    for (const site of split) expect(site).toEqual([...site].sort((a, b) => a - b));
    expect(dirichletSplit(rows, 7, 0.5, 1, new Prng('s'))).toEqual(split);
    expect(dirichletSplit(rows, 7, 0.5, 1, new Prng('t'))).not.toEqual(split);
  });

  it('skews labels under a small α and keeps the mix under a large one', () => {
    // Two labels half and half: IID sites would have a top share near 0.5, one-label sites 1.
    const rows = cycling(2000, 2);
    expect(meanTopShare(dirichletSplit(rows, 10, 0.05, 1, new Prng(1)), rows.labels, 2)).toBeGreaterThan(0.9);
    expect(meanTopShare(dirichletSplit(rows, 10, 1000, 1, new Prng(1)), rows.labels, 2)).toBeLessThan(0.56);
  });

  it('tops a short site up from the largest one, so every site has minRows', () => {
    // One label and α = 0.001: nearly all rows fall to one site; the other four take 3 each from it.
    const split = dirichletSplit(cycling(40, 1), 5, 0.001, 3, new Prng(2));
    const sizes = split.map((s) => s.length).sort((a, b) => a - b);
    expect(sizes.slice(0, 4).every((n) => n >= 3)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('refuses α ≤ 0, NaN or ∞, and too few rows for the minimum', () => {
    for (const alpha of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(thrownCode(() => dirichletSplit(cycling(10, 2), 2, alpha, 1, new Prng(1)))).toBe('E_BAD_PARTITION');
    }
    expect(thrownCode(() => dirichletSplit(cycling(5, 1), 3, 1, 2, new Prng(1)))).toBe('E_BAD_PARTITION');
  });
});
