import { describe, expect, it } from 'vitest';
import { holdoutSplit, siteSplit } from '../../shared/holdout.js';

const sorted = (v: number[]): number[] => [...v].sort((a, b) => a - b);

describe('siteSplit', () => {
  const holdout = { fraction: 0.2, seed: 20090219 };

  it('keeps the held-out part of holdoutSplit and takes validation only from the training part', () => {
    const plain = holdoutSplit(100, 0.2, holdout.seed, 'site-1');
    const s = siteSplit(100, holdout, 0.25, 'site-1');
    expect(s.test).toEqual(plain.test);
    expect(s.test).toHaveLength(20);
    expect(s.validation).toHaveLength(20); // 25% of the 80 training rows
    expect(s.train).toHaveLength(60);
    expect(sorted([...s.validation, ...s.train])).toEqual(sorted(plain.train));
    const test = new Set(s.test);
    expect(s.validation.some((i) => test.has(i))).toBe(false);
    expect(s.train.some((i) => new Set(s.validation).has(i))).toBe(false);
  });

  it('is the same for the same seed and site, and differs between sites and seeds', () => {
    const a = siteSplit(50, holdout, 0.2, 'site-1');
    expect(siteSplit(50, holdout, 0.2, 'site-1')).toEqual(a);
    expect(siteSplit(50, holdout, 0.2, 'site-2').validation).not.toEqual(a.validation);
    expect(siteSplit(50, { ...holdout, seed: 7 }, 0.2, 'site-1').validation).not.toEqual(a.validation);
    // Its own label: not simply the next rows of the hold-out shuffle.
    expect(a.validation).not.toEqual(holdoutSplit(50, 0.2, holdout.seed, 'site-1').train.slice(0, a.validation.length));
  });

  it('without a validation fraction trains on the whole training part', () => {
    const s = siteSplit(30, holdout, undefined, 'site-1');
    expect(s.validation).toEqual([]);
    expect(s).toEqual({ ...holdoutSplit(30, 0.2, holdout.seed, 'site-1'), validation: [] });
  });

  it('keeps at least one row to train on and one to validate on', () => {
    expect(siteSplit(3, holdout, 0.5, 's')).toMatchObject({ test: [expect.any(Number)], validation: [expect.any(Number)], train: [expect.any(Number)] });
    // Two rows: one held out, one to train on; nothing is left for validation.
    expect(siteSplit(2, holdout, 0.5, 's').validation).toEqual([]);
  });
});
