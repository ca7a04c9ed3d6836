import { describe, expect, it } from 'vitest';
import { applyQ, householderQr } from '../../../shared/linalg/householder-qr.js';
import { Prng } from '../../../shared/prng.js';

const gram = (m: Float64Array, rows: number, cols: number): Float64Array => {
  const g = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) g[i * cols + j]! += m[r * cols + i]! * m[r * cols + j]!;
  return g;
};

describe('householderQr', () => {
  it('reduces the column (3, 4) to R = [−5]', () => {
    const qr = householderQr(Float64Array.of(3, 4), 2, 1);
    expect([...qr.r]).toEqual([-5]);
  });

  it('keeps the Gram matrix, tall and wide, and Q·R gives back A', () => {
    const rng = new Prng('qr');
    for (const [rows, cols] of [[9, 4], [3, 7]] as const) {
      const a = Float64Array.from({ length: rows * cols }, () => rng.next() - 0.5);
      const copy = Float64Array.from(a);
      const qr = householderQr(a, rows, cols);
      const k = Math.min(rows, cols);
      expect(qr.r.length).toBe(k * cols);
      const g1 = gram(copy, rows, cols);
      const g2 = gram(qr.r, k, cols);
      g1.forEach((v, i) => expect(g2[i]!).toBeCloseTo(v, 12));
      const back = new Float64Array(rows * cols);
      back.set(qr.r);
      applyQ(qr, back, cols);
      copy.forEach((v, i) => expect(back[i]!).toBeCloseTo(v, 12));
    }
  });
});
