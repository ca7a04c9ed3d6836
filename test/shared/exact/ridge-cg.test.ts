import { describe, expect, it } from 'vitest';
import { ridgeByCg } from '../../../shared/exact/ridge-cg.js';
import { exactRidge } from '../../../shared/exact/ridge-select.js';
import { augmentedRows } from '../../../shared/exact/gram-factor.js';
import { cholesky, choleskySolve } from '../../../shared/linalg/cholesky.js';
import { Prng } from '../../../shared/prng.js';
import { crossProducts, gramProduct } from '../../../site-agent/exact-products.js';

describe('ridge by federated conjugate gradient', () => {
  it('equals the pooled normal-equations fit to 1e-6 relative on wide data (rows < features)', async () => {
    const rng = new Prng('cg');
    const d = 120;
    const truth = Array.from({ length: d }, (_, j) => (j < 10 ? 1 : 0));
    const sites = [25, 40, 18].map((n) => {
      const x = Float32Array.from({ length: n * d }, () => rng.normal());
      const y = Float32Array.from({ length: n }, (_, r) => truth.reduce((s, t, j) => s + t * x[r * d + j]!, 0.3 + rng.normal(0, 0.5)));
      return { n, x, y, actual: new Float64Array(n) };
    });
    const n = sites.reduce((s, p) => s + p.n, 0);
    const lambda = 0.05;
    const xty = new Float64Array(d + 1);
    for (const s of sites) crossProducts(s, d).subarray(0, d + 1).forEach((v, i) => (xty[i]! += v));
    let products = 0;
    const fit = await ridgeByCg(d, n, lambda, xty, async (p) => {
      products++;
      const sum = new Float64Array(d + 1);
      for (const s of sites) gramProduct(s, d, p).forEach((v, i) => (sum[i]! += v));
      return sum;
    });
    // Pooled: (X̃ᵀX̃ + nλ/2·D)β = X̃ᵀy by Cholesky on all rows in one place.
    const p = d + 1;
    const a = new Float64Array(p * p);
    const c = new Float64Array(p);
    for (const s of sites) {
      for (let r = 0; r < s.n; r++) {
        const row = [...s.x.subarray(r * d, (r + 1) * d), 1];
        row.forEach((vi, i) => {
          c[i]! += vi * s.y[r]!;
          row.forEach((vj, j) => (a[i * p + j]! += vi * vj));
        });
      }
    }
    for (let j = 0; j < d; j++) a[j * p + j]! += (n * lambda) / 2;
    const beta = choleskySolve(cholesky(a, p), p, c);
    const maxW = Math.max(...beta.slice(0, d).map(Math.abs));
    for (let j = 0; j < d; j++) expect(Math.abs(fit.w[j]! - beta[j]!) / maxW).toBeLessThan(1e-6);
    expect(Math.abs(fit.b - beta[d]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(beta[d]!)));
    expect(products).toBe(fit.iterations);
    expect(fit.iterations).toBeLessThanOrEqual(p);
    // And the factored path agrees with it.
    const viaFactors = await exactRidge(sites.map((s, i) => ({ siteId: `s${i}`, folds: [augmentedRows(s.x, s.y, d, Array.from({ length: s.n }, (_, r) => r))] })), d, lambda);
    for (let j = 0; j < d; j++) expect(Math.abs(viaFactors.fit.w[j]! - fit.w[j]!) / maxW).toBeLessThan(1e-6);
  });
});
