import { describe, expect, it } from 'vitest';
import { Residuals } from '../../site-agent/residuals.js';

const v = (...x: number[]): Float32Array => new Float32Array(x);

describe('residuals kept for error feedback', () => {
  it('carry a round\'s residual into the next, and a round trained again starts from what it started from', () => {
    const r = new Residuals();
    expect(r.carryInto('run-1', 1)).toBeNull();
    r.record('run-1', 1, v(1, 0));
    expect(Array.from(r.carryInto('run-1', 2)!)).toEqual([1, 0]);
    r.record('run-1', 2, v(0, 2));
    // Round 2 redone (its kept answer lost): it starts again from round 1's residual, not its own.
    expect(Array.from(r.carryInto('run-1', 2)!)).toEqual([1, 0]);
    r.record('run-1', 2, v(0, 3));
    expect(Array.from(r.carryInto('run-1', 3)!)).toEqual([0, 3]);
    // A round skipped (the site was not selected) carries the residual on.
    expect(Array.from(r.carryInto('run-1', 5)!)).toEqual([0, 3]);
  });

  it('keep runs apart, and forget the oldest beyond four', () => {
    const r = new Residuals();
    for (let i = 1; i <= 5; i++) r.record(`run-${i}`, 1, v(i));
    expect(r.carryInto('run-1', 2)).toBeNull();
    expect(Array.from(r.carryInto('run-2', 2)!)).toEqual([2]);
    expect(Array.from(r.carryInto('run-5', 2)!)).toEqual([5]);
  });
});
