import { describe, expect, it } from 'vitest';
import { clipTolerance, deltaNorm, privatiseUpdate } from '../../../shared/privacy/private-update.js';
import { secureNormal } from '../../../shared/privacy/secure-normal.js';
import type { Weights } from '../../../shared/tensors.js';

const w = (a: number[], b: number[]): Weights => [
  { name: 'kernel', shape: [a.length], data: new Float32Array(a) },
  { name: 'bias', shape: [b.length], data: new Float32Array(b) },
];

describe('privatiseUpdate (a site\'s side of DP-FedAvg)', () => {
  const global = w([1, 2], [0]);

  it('clips the change over every tensor together: Δ = (3, 0, 4), ‖Δ‖ = 5, C = 1 → Δ/5', () => {
    const local = w([4, 2], [4]);
    expect(deltaNorm(global, local)).toBe(5);
    const out = privatiseUpdate(global, local, { clip: 1, noiseStd: 0 }, () => 0);
    expect([...out[0]!.data]).toEqual([1 + 0.6, 2].map(Math.fround));
    expect([...out[1]!.data]).toEqual([Math.fround(0.8)]);
    expect(deltaNorm(global, out)).toBeCloseTo(1, 6);
    expect(out.map((t) => [t.name, t.shape])).toEqual([['kernel', [2]], ['bias', [1]]]);
  });

  it('leaves a change within the clip as it is', () => {
    const local = w([1.5, 2], [0.5]);
    const out = privatiseUpdate(global, local, { clip: 1, noiseStd: 0 }, () => 0);
    expect(out.map((t) => [...t.data])).toEqual(local.map((t) => [...t.data]));
  });

  it('adds noiseStd·z to every coordinate after clipping', () => {
    const local = w([4, 2], [4]);
    const draws = [1, -2, 0.5];
    let k = 0;
    const out = privatiseUpdate(global, local, { clip: 1, noiseStd: 0.1 }, () => draws[k++]!);
    expect(out[0]!.data[0]).toBeCloseTo(1.6 + 0.1, 6);
    expect(out[0]!.data[1]).toBeCloseTo(2 - 0.2, 6);
    expect(out[1]!.data[0]).toBeCloseTo(0.8 + 0.05, 6);
    expect(k).toBe(3);
  });

  it('an update clipped in float64 and stored in float32 stays within the tolerance the coordinator allows', () => {
    const g = w(Array.from({ length: 1000 }, (_, i) => 100 + i / 7), [3]);
    const l = w(Array.from({ length: 1000 }, (_, i) => 100 + i / 7 + Math.sin(i)), [5]);
    const out = privatiseUpdate(g, l, { clip: 0.01, noiseStd: 0 }, () => 0);
    expect(deltaNorm(g, out)).toBeLessThanOrEqual(clipTolerance(0.01, out));
    expect(clipTolerance(0.01, out)).toBeLessThan(0.02);
  });
});

describe('secureNormal', () => {
  it('draws standard normals: mean ≈ 0, variance ≈ 1 over 200,000 draws', () => {
    const z = secureNormal();
    let s = 0;
    let s2 = 0;
    const n = 200000;
    for (let i = 0; i < n; i++) {
      const x = z();
      s += x;
      s2 += x * x;
    }
    // 5 standard errors: mean SE 1/√n ≈ 0.0022, variance SE √(2/n) ≈ 0.0032
    expect(Math.abs(s / n)).toBeLessThan(0.012);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.016);
  });
});
