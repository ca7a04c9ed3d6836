// Ridge fits for every penalty from one eigendecomposition. Input: blocks F_i whose stacked
// Gram ΣF_iᵀF_i equals ZᵀZ of the pooled rows Z = [X 1 y]. The objective is the trainer's:
//   (1/n)·‖Xw + b − y‖² + λ/2·‖w‖²   (bias unpenalised)
// i.e. ridge with α = nλ/2 after the intercept column is projected out. With N stacked rows and
// d features, the decomposition is of the N×N kernel when N ≤ d (dual form) or of the d×d Gram
// matrix otherwise, so each penalty afterwards costs O(N·d) or O(d²).

import { FedrxError } from '../errors.js';
import { symEigen, type SymEigen } from '../linalg/sym-eigen.js';

export interface RidgeFit {
  lambda: number;
  w: Float64Array;
  b: number;
}

export class RidgePath {
  /** Rows in the pooled data (Σ of the ones column squared). */
  readonly n: number;
  private readonly eig: SymEigen;
  private readonly dual: boolean;
  /** Dual: Vᵀy'' per eigenvector; primal: Uᵀ(X''ᵀy''). */
  private readonly proj: Float64Array;
  private readonly xp: Float64Array;
  private readonly rows: number;
  private readonly sx: Float64Array;
  private readonly sy: number;

  constructor(
    blocks: readonly Float64Array[],
    readonly d: number,
  ) {
    const w = d + 2;
    const rows = blocks.reduce((s, b) => s + b.length / w, 0);
    if (!Number.isInteger(rows) || rows === 0) throw new FedrxError('E_SHAPE_MISMATCH', `ridge blocks do not have ${w} columns`);
    const p = new Float64Array(rows * w);
    let at = 0;
    for (const b of blocks) {
      p.set(b, at);
      at += b.length;
    }
    // n, Σx, Σy from the ones column; then project the ones direction out of X' and y'.
    const o = new Float64Array(rows);
    let n = 0;
    for (let r = 0; r < rows; r++) {
      o[r] = p[r * w + d]!;
      n += o[r]! * o[r]!;
    }
    if (!(n > 0.5)) throw new FedrxError('E_SINGULAR', 'the statistics hold no rows');
    this.n = n;
    const proj = new Float64Array(d + 1); // uᵀ column, for X' (0…d−1) and y' (d)
    for (let r = 0; r < rows; r++) {
      const or = o[r]!;
      if (or === 0) continue;
      for (let j = 0; j < d; j++) proj[j]! += or * p[r * w + j]!;
      proj[d]! += or * p[r * w + d + 1]!;
    }
    this.sx = proj.slice(0, d);
    this.sy = proj[d]!;
    const xp = new Float64Array(rows * d);
    const yp = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const f = o[r]! / n;
      for (let j = 0; j < d; j++) xp[r * d + j] = p[r * w + j]! - f * proj[j]!;
      yp[r] = p[r * w + d + 1]! - f * proj[d]!;
    }
    this.xp = xp;
    this.rows = rows;
    this.dual = rows <= d;
    if (this.dual) {
      const k = new Float64Array(rows * rows);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          const ri = i * d;
          const rj = j * d;
          for (let c = 0; c < d; c++) s += xp[ri + c]! * xp[rj + c]!;
          k[i * rows + j] = s;
          k[j * rows + i] = s;
        }
      }
      this.eig = symEigen(k, rows);
      this.proj = Float64Array.from(this.eig.vectors, (v) => dotN(v, yp, rows));
    } else {
      const g = new Float64Array(d * d);
      const xty = new Float64Array(d);
      for (let r = 0; r < rows; r++) {
        const rr = r * d;
        for (let i = 0; i < d; i++) {
          const xi = xp[rr + i]!;
          if (xi === 0) continue;
          xty[i]! += xi * yp[r]!;
          for (let j = 0; j <= i; j++) g[i * d + j]! += xi * xp[rr + j]!;
        }
      }
      for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) g[j * d + i] = g[i * d + j]!;
      this.eig = symEigen(g, d);
      this.proj = Float64Array.from(this.eig.vectors, (v) => dotN(v, xty, d));
    }
  }

  /** Mean of the nonzero eigenvalues of the centred Gram matrix: the data's own penalty scale. */
  meanEigenvalue(): number {
    const top = this.eig.values[this.eig.n - 1] ?? 0;
    const nz = [...this.eig.values].filter((v) => v > 1e-10 * top);
    return nz.length === 0 ? 1 : nz.reduce((s, v) => s + v, 0) / nz.length;
  }

  solve(lambda: number): RidgeFit {
    const alpha = (this.n * lambda) / 2;
    const { values, vectors } = this.eig;
    const top = values[values.length - 1] ?? 0;
    const d = this.d;
    const w = new Float64Array(d);
    // A zero penalty on a rank-deficient system gives the minimum-norm solution.
    const coef = (k: number): number => {
      const den = values[k]! + alpha;
      return den > 1e-12 * Math.max(top, 1) ? this.proj[k]! / den : 0;
    };
    if (this.dual) {
      const c = new Float64Array(this.rows);
      for (let k = 0; k < values.length; k++) {
        const f = coef(k);
        if (f === 0) continue;
        const v = vectors[k]!;
        for (let r = 0; r < this.rows; r++) c[r]! += f * v[r]!;
      }
      for (let r = 0; r < this.rows; r++) {
        const cr = c[r]!;
        for (let j = 0; j < d; j++) w[j]! += cr * this.xp[r * d + j]!;
      }
    } else {
      for (let k = 0; k < values.length; k++) {
        const f = coef(k);
        if (f === 0) continue;
        const v = vectors[k]!;
        for (let j = 0; j < d; j++) w[j]! += f * v[j]!;
      }
    }
    let b = this.sy;
    for (let j = 0; j < d; j++) b -= this.sx[j]! * w[j]!;
    return { lambda, w, b: b / this.n };
  }
}

/** Σ over the rows of the blocks of (xᵀw + b − y)² and of the rows themselves, from ZᵀZ alone. */
export function sumSquaredError(blocks: readonly Float64Array[], d: number, fit: RidgeFit): { sse: number; n: number } {
  const w = d + 2;
  let sse = 0;
  let n = 0;
  for (const blk of blocks) {
    for (let r = 0; r < blk.length / w; r++) {
      const at = r * w;
      let s = blk[at + d]! * fit.b - blk[at + d + 1]!;
      for (let j = 0; j < d; j++) s += blk[at + j]! * fit.w[j]!;
      sse += s * s;
      n += blk[at + d]! ** 2;
    }
  }
  return { sse, n };
}

function dotN(a: Float64Array, b: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}
