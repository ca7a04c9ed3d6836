import { describe, expect, it } from 'vitest';
import { conjugateGradient } from '../../../shared/linalg/conjugate-gradient.js';

describe('conjugateGradient', () => {
  it('solves [[4,1],[1,3]]·x = [1,2] (x = [1/11, 7/11]) in two products', async () => {
    let products = 0;
    const apply = (p: Float64Array): Float64Array => {
      products++;
      return Float64Array.of(4 * p[0]! + p[1]!, p[0]! + 3 * p[1]!);
    };
    const { x, iterations, relResidual } = await conjugateGradient(apply, Float64Array.of(1, 2), { tol: 1e-14 });
    expect(x[0]).toBeCloseTo(1 / 11, 12);
    expect(x[1]).toBeCloseTo(7 / 11, 12);
    expect(iterations).toBe(2);
    expect(products).toBe(2);
    expect(relResidual).toBeLessThan(1e-12);
  });

  it('returns zero for b = 0 without asking for a product', async () => {
    const { x, iterations } = await conjugateGradient(() => {
      throw new Error('not called');
    }, new Float64Array(3));
    expect([...x]).toEqual([0, 0, 0]);
    expect(iterations).toBe(0);
  });
});
