import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolve } from '../../../shared/linalg/cholesky.js';

describe('cholesky', () => {
  it('factors [[4,2],[2,3]] as [[2,0],[1,√2]] and solves it by hand', () => {
    const l = cholesky(Float64Array.of(4, 2, 2, 3), 2);
    expect([...l].map((v) => +v.toFixed(12))).toEqual([2, 0, 1, +Math.SQRT2.toFixed(12)]);
    // 4x + 2y = 2, 2x + 3y = 1 → x = 0.5, y = 0
    const x = choleskySolve(l, 2, Float64Array.of(2, 1));
    expect(x[0]).toBeCloseTo(0.5, 12);
    expect(x[1]).toBeCloseTo(0, 12);
  });

  it('refuses a matrix that is not positive definite (E_SINGULAR)', () => {
    expect(() => cholesky(Float64Array.of(1, 2, 2, 1), 2)).toThrow(expect.objectContaining({ code: 'E_SINGULAR' }));
  });
});
