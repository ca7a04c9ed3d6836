// A site's sufficient statistics for an exact ridge fit, in factored form.
//
// For the augmented rows Z = [X 1 y] (n × (d+2)) the site sends F (m × (d+2), m = min(n, d+2))
// with FᵀF = ZᵀZ, which holds XᵀX, Xᵀy, yᵀy, Σx, Σy and n. F = H·R, where R is the QR factor
// of Z and H a Haar-random orthogonal matrix drawn from a secret source: for any two data sets
// with the same ZᵀZ, F has the same distribution, so F tells the coordinator exactly what ZᵀZ
// does and nothing more. It is far smaller than ZᵀZ when rows are fewer than columns.

import { randomFillSync } from 'node:crypto';
import { householderQr, applyQ } from '../linalg/householder-qr.js';

/** A standard normal variate. */
export type NormalSource = () => number;

/** Rows of Z = [x 1 y] for the chosen `rows` of a row-major n × d matrix. */
export function augmentedRows(x: ArrayLike<number>, y: ArrayLike<number>, d: number, rows: readonly number[]): Float64Array {
  const w = d + 2;
  const z = new Float64Array(rows.length * w);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) z[i * w + j] = x[r * d + j]!;
    z[i * w + d] = 1;
    z[i * w + d + 1] = y[r]!;
  });
  return z;
}

/** F with FᵀF = ZᵀZ for Z of `n` rows and `w` columns (consumed), rotated by a Haar matrix. */
export function gramFactor(z: Float64Array, n: number, w: number, normal: NormalSource): { factor: Float64Array; rows: number } {
  const { r } = householderQr(z, n, w);
  const m = Math.min(n, w);
  // Haar-random orthogonal H = Q·diag(sign r_jj) from the QR of a Gaussian m × m matrix.
  const g = Float64Array.from({ length: m * m }, () => normal());
  const gq = householderQr(g, m, m);
  for (let j = 0; j < m; j++) {
    if (gq.r[j * m + j]! < 0) for (let c = 0; c < w; c++) r[j * w + c] = -r[j * w + c]!;
  }
  applyQ(gq, r, w);
  return { factor: r, rows: m };
}

/** Standard normals from the operating system's CSPRNG: the coordinator cannot predict H. */
export function secretNormal(): NormalSource {
  const buf = new Uint32Array(1024);
  let at = buf.length;
  let spare: number | null = null;
  const uniform = (): number => {
    if (at >= buf.length) {
      randomFillSync(buf);
      at = 0;
    }
    return (buf[at++]! + 0.5) / 4294967296; // (0, 1)
  };
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const rad = Math.sqrt(-2 * Math.log(uniform()));
    const th = 2 * Math.PI * uniform();
    spare = rad * Math.sin(th);
    return rad * Math.cos(th);
  };
}
