// Ordinary least squares by the normal equations (XᵀX) β = Xᵀy, solved with a Cholesky
// factorisation. Small and exact enough for a reference fit of a handful of features on a few
// thousand rows; not meant for ill-conditioned or wide problems.

/** Solve A x = b for a symmetric positive-definite A (row-major n × n) by Cholesky, A = L Lᵀ. */
export function choleskySolve(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  if (a.length !== n || a.some((row) => row.length !== n)) {
    throw new RangeError(`choleskySolve needs an ${n} × ${n} matrix`);
  }
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let d = a[j]![j]!;
    for (let k = 0; k < j; k++) d -= l[j]![k]! ** 2;
    // Relative pivot check: a zero or negative pivot means a column is constant or redundant.
    if (!(d > 1e-12 * Math.max(1, Math.abs(a[j]![j]!)))) {
      throw new RangeError(`matrix is not positive definite (pivot ${j} is ${d}): a column is constant or redundant`);
    }
    const ljj = Math.sqrt(d);
    l[j]![j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = s / ljj;
    }
  }
  // L z = b, then Lᵀ x = z.
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * z[k]!;
    z[i] = s / l[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/** XᵀX and Xᵀy of the rows (each row the full design row, intercept column included if wanted). */
export function normalEquations(
  rows: readonly (readonly number[])[],
  y: readonly number[],
): { xtx: number[][]; xty: number[] } {
  if (rows.length !== y.length) throw new RangeError(`${rows.length} rows but ${y.length} targets`);
  const p = rows[0]?.length ?? 0;
  const xtx: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  rows.forEach((row, r) => {
    if (row.length !== p) throw new RangeError(`row ${r} has ${row.length} values, expected ${p}`);
    const t = y[r]!;
    for (let i = 0; i < p; i++) {
      const xi = row[i]!;
      if (xi === 0) continue;
      xty[i]! += xi * t;
      const xtxRow = xtx[i]!;
      for (let j = 0; j <= i; j++) xtxRow[j]! += xi * row[j]!;
    }
  });
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) xtx[i]![j] = xtx[j]![i]!;
  return { xtx, xty };
}

/** β minimising Σ (y − X β)²; include a column of ones in X for an intercept. */
export function leastSquares(rows: readonly (readonly number[])[], y: readonly number[]): number[] {
  if (rows.length === 0) throw new RangeError('least squares needs at least one row');
  const { xtx, xty } = normalEquations(rows, y);
  return choleskySolve(xtx, xty);
}

/** x · β. */
export function predictLinear(beta: readonly number[], row: readonly number[]): number {
  if (row.length !== beta.length) throw new RangeError(`row has ${row.length} values, β has ${beta.length}`);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += beta[i]! * row[i]!;
  return s;
}
