import { describe, expect, it } from 'vitest';
import { choleskySolve, leastSquares, normalEquations, predictLinear } from '../../bench/least-squares.js';

describe('least squares', () => {
  it('solves a 2 × 2 positive-definite system by hand', () => {
    // [4 2; 2 3] x = [8; 7]: inverse = (1/8)[3 −2; −2 4] → x = (1/8)[24 − 14; −16 + 28] = [1.25; 1.5].
    const x = choleskySolve(
      [
        [4, 2],
        [2, 3],
      ],
      [8, 7],
    );
    expect(x[0]).toBeCloseTo(1.25, 12);
    expect(x[1]).toBeCloseTo(1.5, 12);
  });

  it('fits a line by hand', () => {
    // x = 0, 1, 2, 3; y = 1, 3, 2, 5. Means 1.5 and 2.75; Sxy = 2.625 − 0.125 − 0.375 + 3.375 = 5.5,
    // Sxx = 5 → slope 1.1, intercept 2.75 − 1.1·1.5 = 1.1.
    const rows = [0, 1, 2, 3].map((x) => [1, x]);
    const beta = leastSquares(rows, [1, 3, 2, 5]);
    expect(beta[0]).toBeCloseTo(1.1, 12);
    expect(beta[1]).toBeCloseTo(1.1, 12);
    expect(predictLinear(beta, [1, 10])).toBeCloseTo(12.1, 10);
  });

  it('builds XᵀX and Xᵀy', () => {
    const { xtx, xty } = normalEquations(
      [
        [1, 2],
        [1, 0],
        [1, 1],
      ],
      [3, 1, 2],
    );
    expect(xtx).toEqual([
      [3, 3],
      [3, 5],
    ]);
    expect(xty).toEqual([6, 8]);
  });

  it('recovers exact coefficients with dummy columns', () => {
    const beta = [2, -0.5, 0.25, 1.5];
    const rows: number[][] = [];
    for (let i = 0; i < 12; i++) rows.push([1, i, (i * 7) % 5, i % 3 === 0 ? 1 : 0]);
    const y = rows.map((r) => predictLinear(beta, r));
    const fit = leastSquares(rows, y);
    fit.forEach((b, i) => expect(b).toBeCloseTo(beta[i]!, 9));
  });

  it('reports a constant or redundant column', () => {
    const rows = [0, 1, 2, 3].map((x) => [1, x, 2 * x]);
    expect(() => leastSquares(rows, [1, 2, 3, 4])).toThrow(/not positive definite/);
    expect(() => leastSquares([[1, 0], [1, 0]], [1, 2])).toThrow(/not positive definite/);
  });

  it('checks shapes', () => {
    expect(() => leastSquares([], [])).toThrow(RangeError);
    expect(() => normalEquations([[1, 2]], [1, 2])).toThrow(RangeError);
    expect(() => choleskySolve([[1, 0]], [1])).toThrow(RangeError);
    expect(() => predictLinear([1, 2], [1])).toThrow(RangeError);
  });
});
