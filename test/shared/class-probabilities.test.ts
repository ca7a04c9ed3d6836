import { describe, expect, it } from 'vitest';
import { classProbabilities, mostProbable } from '../../shared/class-probabilities.js';

describe('class probabilities', () => {
  it('two classes: the sigmoid of the one logit is the second class', () => {
    expect(classProbabilities([0], 2)).toEqual([0.5, 0.5]);
    const [p0, p1] = classProbabilities([Math.log(3)], 2); // odds 3:1
    expect(p1).toBeCloseTo(0.75, 15);
    expect(p0).toBeCloseTo(0.25, 15);
  });

  it('more classes: softmax of row i of a row-major block', () => {
    // Row 1 of two rows of 3 logits: (0, ln 2, ln 5) → 1/8, 2/8, 5/8.
    const p = classProbabilities([9, 9, 9, 0, Math.log(2), Math.log(5)], 3, 1);
    expect(p.map((v) => v * 8)).toEqual([1, 2, 5].map((v) => expect.closeTo(v, 12)));
    expect(mostProbable(p)).toBe(2);
    // Large logits do not overflow.
    expect(classProbabilities([1000, 999, 0], 3)[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });
});
