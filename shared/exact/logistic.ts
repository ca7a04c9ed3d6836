// Exact L2-penalised logistic regression (binary classification) by Newton steps, as federated
// GWAS tools do (sPLINK): at the current coefficients β each site sends its gradient X̃ᵀ(p − y),
// its summed cross-entropy and a factor F with FᵀF = X̃ᵀWX̃ (W = p(1−p); the Hessian, factored
// and Haar-rotated like the ridge statistics, shared/exact/gram-factor.ts). The coordinator adds
// the gradients, stacks the factors and solves
//   (X̃ᵀWX̃ + nλ·D)·δ = −(X̃ᵀ(p − y) + nλ·D·β),   D = diag(1,…,1,0),
// i.e. one Newton step on the trainer's objective (1/n)·Σ CE + λ/2·‖w‖².

import { conjugateGradient } from '../linalg/conjugate-gradient.js';
import { gramFactor, type NormalSource } from './gram-factor.js';

/** Length of one site's packed answer: [gradient (d+1), loss sum (1), F (min(n, d+1) × (d+1))]. */
export function newtonAnswerLength(width: number, n: number): number {
  return width + 2 + Math.min(n, width + 1) * (width + 1);
}

/** One site's Newton terms at `beta` (width + 1 values, the bias last), packed. */
export function newtonTerms(x: ArrayLike<number>, y: ArrayLike<number>, n: number, width: number, beta: Float64Array, normal: NormalSource): Float64Array {
  const w = width + 1;
  const out = new Float64Array(newtonAnswerLength(width, n));
  const z = new Float64Array(n * w);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    let s = beta[width]!;
    for (let j = 0; j < width; j++) s += x[r * width + j]! * beta[j]!;
    const p = 1 / (1 + Math.exp(-s));
    const yr = y[r]!;
    loss += Math.max(s, 0) - s * yr + Math.log1p(Math.exp(-Math.abs(s)));
    const resid = p - yr;
    const sw = Math.sqrt(p * (1 - p));
    for (let j = 0; j < width; j++) {
      out[j]! += x[r * width + j]! * resid;
      z[r * w + j] = x[r * width + j]! * sw;
    }
    out[width]! += resid;
    z[r * w + width] = sw;
  }
  out[width + 1] = loss;
  out.set(gramFactor(z, n, w, normal).factor, width + 2);
  return out;
}

export interface NewtonStep {
  beta: Float64Array;
  /** Penalised objective at the β the terms were computed at: (1/n)·Σ CE + λ/2·‖w‖². */
  objective: number;
  /** max |δ| of the step taken. */
  stepSize: number;
}

/** Sums the sites' packed answers (each from newtonTerms at `beta`) and takes one Newton step. */
export async function newtonStep(beta: Float64Array, answers: readonly { n: number; v: Float64Array }[], width: number, lambda: number): Promise<NewtonStep> {
  const w = width + 1;
  const n = answers.reduce((s, a) => s + a.n, 0);
  const g = new Float64Array(w);
  let loss = 0;
  for (const a of answers) {
    for (let j = 0; j < w; j++) g[j]! += a.v[j]!;
    loss += a.v[width + 1]!;
  }
  const nl = n * lambda;
  let pen = 0;
  for (let j = 0; j < width; j++) {
    g[j]! += nl * beta[j]!;
    pen += beta[j]! ** 2;
  }
  const blocks = answers.map((a) => ({ rows: Math.min(a.n, w), f: a.v.subarray(width + 2) }));
  const hv = (p: Float64Array): Float64Array => {
    const out = new Float64Array(w);
    for (const { rows, f } of blocks) {
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let j = 0; j < w; j++) s += f[r * w + j]! * p[j]!;
        for (let j = 0; j < w; j++) out[j]! += f[r * w + j]! * s;
      }
    }
    for (let j = 0; j < width; j++) out[j]! += nl * p[j]!;
    return out;
  };
  const rhs = g.map((v) => -v);
  const delta = (await conjugateGradient(hv, rhs, { tol: 1e-13, maxIterations: 5 * w })).x;
  return { beta: beta.map((b, j) => b + delta[j]!), objective: loss / n + (lambda / 2) * pen, stepSize: delta.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
}
