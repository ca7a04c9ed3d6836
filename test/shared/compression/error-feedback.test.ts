import { describe, expect, it } from 'vitest';
import { compensate, residualOf } from '../../../shared/compression/error-feedback.js';
import { scatter } from '../../../shared/compression/sparse.js';
import { topK } from '../../../shared/compression/top-k.js';

/** One round of top-1 with error feedback, as a site does it: what it sends, and what it keeps back. */
function round(delta: number[], residual: Float32Array | null): { sent: Float32Array; residual: Float32Array } {
  const meant = compensate(new Float32Array(delta), residual);
  const sent = scatter(topK(meant, 1), meant.length);
  return { sent, residual: residualOf(meant, sent) };
}

describe('error feedback', () => {
  it('hand-worked: top-1 over three rounds sends late what it left out', () => {
    // Round 1: Δ = [3, 1, −2]; sends [3, 0, 0], keeps [0, 1, −2].
    const r1 = round([3, 1, -2], null);
    expect(Array.from(r1.sent)).toEqual([3, 0, 0]);
    expect(Array.from(r1.residual)).toEqual([0, 1, -2]);
    // Round 2: Δ = [1, 1, 1] + [0, 1, −2] = [1, 2, −1]: sends [0, 2, 0], keeps [1, 0, −1].
    const r2 = round([1, 1, 1], r1.residual);
    expect(Array.from(r2.sent)).toEqual([0, 2, 0]);
    expect(Array.from(r2.residual)).toEqual([1, 0, -1]);
    // Round 3: Δ = [0, 0, −1] + [1, 0, −1] = [1, 0, −2]: sends [0, 0, −2], keeps [1, 0, 0].
    const r3 = round([0, 0, -1], r2.residual);
    expect(Array.from(r3.sent)).toEqual([0, 0, -2]);
    expect(Array.from(r3.residual)).toEqual([1, 0, 0]);
  });

  it('over rounds, what was sent plus the last residual is the sum of the dense changes', () => {
    const deltas = [
      [0.5, -0.25, 0.125, 2, -1],
      [-0.5, 0.75, 0.125, -1, 0.25],
      [1, 0, -0.375, 0.5, 0.5],
      [0.25, 0.25, 0.25, 0.25, -4],
    ];
    let residual: Float32Array | null = null;
    const sentSum = new Float64Array(5);
    const denseSum = new Float64Array(5);
    for (const d of deltas) {
      const r = round(d, residual);
      residual = r.residual;
      d.forEach((x, i) => (denseSum[i]! += x));
      r.sent.forEach((x, i) => (sentSum[i]! += x));
    }
    // Dyadic values: every sum is exact, so the books balance to the bit.
    expect(Array.from(sentSum, (s, i) => s + residual![i]!)).toEqual(Array.from(denseSum));
    // And one value of the four rounds' sum is still owed: it was not lost.
    expect(Array.from(residual!).some((x) => x !== 0)).toBe(true);
  });

  it('without a residual the change is sent as it is', () => {
    expect(Array.from(compensate(new Float32Array([1, 2]), null))).toEqual([1, 2]);
  });
});
