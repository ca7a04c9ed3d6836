import { describe, expect, it } from 'vitest';
import { foldRows } from '../../../shared/exact/folds.js';
import { augmentedRows, gramFactor } from '../../../shared/exact/gram-factor.js';
import { exactRidge, type SiteFactors } from '../../../shared/exact/ridge-select.js';
import { cholesky, choleskySolve } from '../../../shared/linalg/cholesky.js';
import { Prng } from '../../../shared/prng.js';

interface Site {
  siteId: string;
  x: Float64Array;
  y: Float64Array;
  n: number;
}

function syntheticSites(d: number, sizes: number[], seed: string): Site[] {
  const rng = new Prng(seed);
  const truth = Array.from({ length: d }, (_, j) => (j % 3 === 0 ? rng.normal() : 0));
  return sizes.map((n, s) => {
    const x = Float64Array.from({ length: n * d }, () => rng.normal(s * 0.3, 1));
    const y = Float64Array.from({ length: n }, (_, r) => {
      let v = 0.5 + rng.normal(0, 0.5);
      for (let j = 0; j < d; j++) v += x[r * d + j]! * truth[j]!;
      return v;
    });
    return { siteId: `site-${s}`, x, y, n };
  });
}

/** The pooled fit by the normal equations: (1/n)‖Xw + b − y‖² + λ/2‖w‖², bias unpenalised. */
function pooledNormalEquations(sites: Site[], d: number, lambda: number): { w: Float64Array; b: number } {
  const p = d + 1;
  const a = new Float64Array(p * p);
  const c = new Float64Array(p);
  let n = 0;
  for (const s of sites) {
    for (let r = 0; r < s.n; r++) {
      const row = [...s.x.subarray(r * d, (r + 1) * d), 1];
      for (let i = 0; i < p; i++) {
        c[i]! += row[i]! * s.y[r]!;
        for (let j = 0; j < p; j++) a[i * p + j]! += row[i]! * row[j]!;
      }
      n++;
    }
  }
  for (let j = 0; j < d; j++) a[j * p + j]! += (n * lambda) / 2;
  const beta = choleskySolve(cholesky(a, p), p, c);
  return { w: beta.slice(0, d), b: beta[d]! };
}

function siteFactors(sites: Site[], d: number, k: number, seed: string): SiteFactors[] {
  const rng = new Prng(seed);
  return sites.map((s) => ({
    siteId: s.siteId,
    folds: foldRows(s.n, k, 7, s.siteId).map((rows) => gramFactor(augmentedRows(s.x, s.y, d, rows), rows.length, d + 2, () => rng.normal()).factor),
  }));
}

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
};

describe('exact federated ridge', () => {
  it('equals the pooled normal-equations fit to 1e-6 relative, narrow (rows > width) and wide (rows < width)', async () => {
    for (const [d, sizes] of [
      [6, [40, 25, 60]],
      [80, [20, 15, 30]],
    ] as const) {
      const sites = syntheticSites(d, [...sizes], `ridge-${d}`);
      const { fit, selection } = await exactRidge(siteFactors(sites, d, 1, 'rot'), d, 0.3);
      expect(selection).toBeNull();
      const pooled = pooledNormalEquations(sites, d, 0.3);
      expect(relDiff(fit.w, pooled.w)).toBeLessThan(1e-6);
      expect(Math.abs(fit.b - pooled.b) / Math.max(1, Math.abs(pooled.b))).toBeLessThan(1e-6);
    }
  });

  it('scores every candidate by k-fold validation exactly as refitting without each fold would', async () => {
    const d = 10;
    const sites = syntheticSites(d, [30, 22, 41], 'cv');
    const k = 4;
    const grid = [0.001, 0.1, 1, 10];
    const { fit, selection } = await exactRidge(siteFactors(sites, d, k, 'rot2'), d, grid);
    expect(selection!.grid).toEqual(grid);
    expect(selection!.folds).toBe(k);
    // By hand: refit on the rows outside each fold, sum squared errors on the fold's rows.
    const folds = sites.map((s) => foldRows(s.n, k, 7, s.siteId));
    const expected = grid.map((lambda) => {
      let sse = 0;
      let n = 0;
      for (let f = 0; f < k; f++) {
        const train = sites.map((s, i) => subset(s, d, folds[i]!.filter((_, g) => g !== f).flat()));
        const m = pooledNormalEquations(train, d, lambda);
        sites.forEach((s, i) => {
          for (const r of folds[i]![f]!) {
            let p = m.b - s.y[r]!;
            for (let j = 0; j < d; j++) p += s.x[r * d + j]! * m.w[j]!;
            sse += p * p;
            n++;
          }
        });
      }
      return sse / n;
    });
    expect(relDiff(selection!.scores, expected)).toBeLessThan(1e-8);
    const best = expected.indexOf(Math.min(...expected));
    expect(selection!.chosen).toBe(best);
    expect(relDiff(fit.w, pooledNormalEquations(sites, d, grid[best]!).w)).toBeLessThan(1e-6);
  });

  it("'auto' tries 13 log-spaced penalties around the data's scale", async () => {
    const d = 5;
    const sites = syntheticSites(d, [30, 30], 'auto');
    const { selection } = await exactRidge(siteFactors(sites, d, 5, 'rot3'), d, 'auto');
    expect(selection!.grid).toHaveLength(13);
    expect(selection!.grid[12]! / selection!.grid[0]!).toBeCloseTo(1e6, 3);
    expect(selection!.scores.every(Number.isFinite)).toBe(true);
  });
});

function subset(s: Site, d: number, rows: number[]): Site {
  return {
    siteId: s.siteId,
    n: rows.length,
    x: Float64Array.from(rows.flatMap((r) => [...s.x.subarray(r * d, (r + 1) * d)])),
    y: Float64Array.from(rows, (r) => s.y[r]!),
  };
}
