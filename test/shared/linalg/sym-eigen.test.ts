import { describe, expect, it } from 'vitest';
import { symEigen } from '../../../shared/linalg/sym-eigen.js';
import { Prng } from '../../../shared/prng.js';

describe('symEigen', () => {
  it('[[2,1],[1,2]] has eigenvalues 1 and 3 with vectors (1,−1)/√2 and (1,1)/√2', () => {
    const { values, vectors } = symEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect(values[0]).toBeCloseTo(1, 12);
    expect(values[1]).toBeCloseTo(3, 12);
    expect(Math.abs(vectors[0]![0]! + vectors[0]![1]!)).toBeLessThan(1e-12);
    expect(Math.abs(vectors[1]![0]! - vectors[1]![1]!)).toBeLessThan(1e-12);
    expect(Math.abs(vectors[1]![0]!)).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('reconstructs a random symmetric 40×40 matrix, including a rank-deficient one', () => {
    const rng = new Prng('eigen');
    for (const rank of [40, 7]) {
      const n = 40;
      const b = Array.from({ length: n * rank }, () => rng.next() - 0.5);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < rank; k++) a[i * n + j]! += b[i * rank + k]! * b[j * rank + k]!;
      const { values, vectors } = symEigen(a, n);
      let maxErr = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += values[k]! * vectors[k]![i]! * vectors[k]![j]!;
          maxErr = Math.max(maxErr, Math.abs(s - a[i * n + j]!));
        }
      }
      expect(maxErr).toBeLessThan(1e-10);
      for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
      expect(values.filter((v) => v > 1e-9).length).toBe(rank);
    }
  });
});
