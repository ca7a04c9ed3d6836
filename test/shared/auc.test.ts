import { describe, expect, it } from 'vitest';
import { AUC_BINS, aucCountsFit, aucFromCounts, aucTieShare, countInto, emptyAucCounts, mergeAucCounts } from '../../shared/auc.js';
import { binaryCounts } from '../helpers/auc-counts.js';

const binary = binaryCounts;

describe('AUC from binned counts', () => {
  it('counts wins over every positive–negative pair: 3 of 4 by hand', () => {
    // Positives 0.9 and 0.4, negatives 0.1 and 0.5: 0.9 beats both, 0.4 beats 0.1 only.
    const c = binary([[0.9, 1], [0.4, 1], [0.1, 0], [0.5, 0]]);
    expect(aucFromCounts(c)).toBe(0.75);
    expect(aucTieShare(c)).toBe(0);
    expect(c.pos[0]!.reduce((a, b) => a + b)).toBe(2);
    expect(c.neg[0]![100]).toBe(1); // 0.1 lands in bin 100 of 1,000
  });

  it('counts a pair in one bin as half a win, and says how much of the result that is', () => {
    // Exact AUC 3/4: every pair is a win but 0.3001 against 0.3003. Both are in bin 300: binned, 3.5/4.
    const c = binary([[0.8, 1], [0.3001, 1], [0.2, 0], [0.3003, 0]]);
    expect(aucFromCounts(c)).toBe(0.875);
    // One of the 4 pairs shares a bin: the result is within 0.125 of the exact AUC (here exactly that far).
    expect(aucTieShare(c)).toBe(0.25);
    // A probability of exactly 1 goes to the last bin, not past it.
    expect(binary([[1, 1], [0, 0]]).pos[0]![AUC_BINS - 1]).toBe(1);
  });

  it('sites’ counts add up to the pooled rows’ counts and AUC', () => {
    const a: [number, number][] = [[0.9, 1], [0.2, 0], [0.6, 0]];
    const b: [number, number][] = [[0.55, 1], [0.05, 0]];
    const merged = mergeAucCounts(binary(a), binary(b));
    expect(merged).toEqual(binary([...a, ...b]));
    // Pairs: 0.9 beats 0.2, 0.6, 0.05; 0.55 beats 0.2 and 0.05, not 0.6 → 5/6.
    expect(aucFromCounts(merged)).toBeCloseTo(5 / 6, 15);
  });

  it('averages one-vs-rest curves for three classes', () => {
    const c = emptyAucCounts(3);
    // Class 0: its row's 0.7 beats 0.1 and 0.2 → 1. Class 1: 0.4 beats 0.1, not 0.5 → 1/2.
    // Class 2: 0.3 beats 0.2, not 0.5 → 1/2.
    countInto(c, [0.7, 0.1, 0.2], 0);
    countInto(c, [0.1, 0.4, 0.5], 1);
    countInto(c, [0.2, 0.5, 0.3], 2);
    expect(c.pos).toHaveLength(3);
    expect(aucFromCounts(c)).toBeCloseTo((1 + 0.5 + 0.5) / 3, 15);
  });

  it('is undefined without both kinds of row, and checks the shape a site sent', () => {
    expect(aucFromCounts(binary([[0.9, 1], [0.4, 1]]))).toBeNaN();
    expect(aucCountsFit(emptyAucCounts(2), 2)).toBe(true);
    expect(aucCountsFit(emptyAucCounts(2), 3)).toBe(false);
    expect(aucCountsFit({ pos: [[1, 2]], neg: [[0, 0]] }, 2)).toBe(false);
  });
});
