import { describe, expect, it } from 'vitest';
import { newtonStep, newtonTerms } from '../../../shared/exact/logistic.js';
import { cholesky, choleskySolve } from '../../../shared/linalg/cholesky.js';
import { Prng } from '../../../shared/prng.js';

/** Pooled Newton by the normal equations, all rows in one place. */
function pooledNewton(x: Float64Array, y: Float64Array, n: number, d: number, lambda: number): Float64Array {
  const w = d + 1;
  let beta = new Float64Array(w);
  for (let it = 0; it < 30; it++) {
    const h = new Float64Array(w * w);
    const g = new Float64Array(w);
    for (let r = 0; r < n; r++) {
      const row = [...x.subarray(r * d, (r + 1) * d), 1];
      const s = row.reduce((acc, v, j) => acc + v * beta[j]!, 0);
      const p = 1 / (1 + Math.exp(-s));
      row.forEach((vi, i) => {
        g[i]! += vi * (p - y[r]!);
        row.forEach((vj, j) => (h[i * w + j]! += p * (1 - p) * vi * vj));
      });
    }
    for (let j = 0; j < d; j++) {
      g[j]! += n * lambda * beta[j]!;
      h[j * w + j]! += n * lambda;
    }
    const delta = choleskySolve(cholesky(h, w), w, g);
    beta = beta.map((b, j) => b - delta[j]!);
  }
  return beta;
}

describe('exact logistic regression by federated Newton steps', () => {
  it('equals pooled Newton to 1e-6 relative, narrow and wide', async () => {
    for (const [d, sizes] of [
      [5, [60, 45, 80]],
      [50, [20, 15, 25]],
    ] as const) {
      const rng = new Prng(`logit-${d}`);
      const truth = Array.from({ length: d }, (_, j) => (j < 3 ? 1.5 : 0));
      const sites = sizes.map((n) => {
        const x = Float64Array.from({ length: n * d }, () => rng.normal());
        const y = Float64Array.from({ length: n }, (_, r) => {
          const s = truth.reduce((acc, t, j) => acc + t * x[r * d + j]!, -0.3);
          return rng.next() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
        });
        return { n, x, y };
      });
      const lambda = 0.05;
      let beta: Float64Array = new Float64Array(d + 1);
      for (let it = 0; it < 30; it++) {
        const answers = sites.map((s) => ({ n: s.n, v: newtonTerms(s.x, s.y, s.n, d, beta, () => rng.normal()) }));
        const step = await newtonStep(beta, answers, d, lambda);
        beta = step.beta;
        if (step.stepSize < 1e-12) break;
      }
      const all = { x: Float64Array.from(sites.flatMap((s) => [...s.x])), y: Float64Array.from(sites.flatMap((s) => [...s.y])), n: sites.reduce((a, s) => a + s.n, 0) };
      const pooled = pooledNewton(all.x, all.y, all.n, d, lambda);
      const scale = Math.max(...pooled.map(Math.abs));
      pooled.forEach((b, j) => expect(Math.abs(beta[j]! - b) / scale).toBeLessThan(1e-6));
    }
  });
});
