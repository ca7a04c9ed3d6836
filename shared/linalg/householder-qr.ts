// Householder QR of a dense row-major matrix, in float64. Used to shrink a site's rows to a
// factor R with RᵀR = AᵀA (min(rows, cols) × cols) and to apply random orthogonal rotations.

export interface QrFactors {
  rows: number;
  cols: number;
  /** R, row-major, min(rows, cols) × cols, zero below the diagonal. */
  r: Float64Array;
  /** The reflectors H_j = I − beta_j·v_j·v_jᵀ (v_j acts on rows j…rows−1); Q = H_0·H_1·…. */
  reflectors: { v: Float64Array; beta: number }[];
}

/** Factors `a` (rows × cols, row-major; overwritten) as Q·R. */
export function householderQr(a: Float64Array, rows: number, cols: number): QrFactors {
  if (a.length !== rows * cols) throw new RangeError(`householderQr: ${a.length} values for ${rows}×${cols}`);
  const k = Math.min(rows, cols);
  const reflectors: QrFactors['reflectors'] = [];
  const s = new Float64Array(cols);
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let i = j; i < rows; i++) norm += a[i * cols + j]! ** 2;
    norm = Math.sqrt(norm);
    const v = new Float64Array(rows - j);
    if (norm === 0) {
      reflectors.push({ v, beta: 0 });
      continue;
    }
    const ajj = a[j * cols + j]!;
    const alpha = ajj > 0 ? -norm : norm;
    for (let i = j; i < rows; i++) v[i - j] = a[i * cols + j]!;
    v[0] = ajj - alpha;
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i]! * v[i]!;
    const beta = vv === 0 ? 0 : 2 / vv;
    reflectApply(a, cols, j, j, v, beta, s);
    a[j * cols + j] = alpha;
    for (let i = j + 1; i < rows; i++) a[i * cols + j] = 0;
    reflectors.push({ v, beta });
  }
  return { rows, cols, r: a.slice(0, k * cols), reflectors };
}

/** m ← H·m for one reflector acting on rows `from`…, columns `fromCol`… of row-major m. */
function reflectApply(m: Float64Array, cols: number, from: number, fromCol: number, v: Float64Array, beta: number, s: Float64Array): void {
  if (beta === 0) return;
  s.fill(0, fromCol, cols);
  for (let i = 0; i < v.length; i++) {
    const vi = v[i]!;
    if (vi === 0) continue;
    const row = (from + i) * cols;
    for (let c = fromCol; c < cols; c++) s[c]! += vi * m[row + c]!;
  }
  for (let i = 0; i < v.length; i++) {
    const f = beta * v[i]!;
    if (f === 0) continue;
    const row = (from + i) * cols;
    for (let c = fromCol; c < cols; c++) m[row + c]! -= f * s[c]!;
  }
}

/** m ← Q·m in place, for m of `qr.rows` rows and `cols` columns. */
export function applyQ(qr: QrFactors, m: Float64Array, cols: number): void {
  if (m.length !== qr.rows * cols) throw new RangeError(`applyQ: ${m.length} values for ${qr.rows}×${cols}`);
  const s = new Float64Array(cols);
  for (let j = qr.reflectors.length - 1; j >= 0; j--) {
    const { v, beta } = qr.reflectors[j]!;
    reflectApply(m, cols, j, 0, v, beta, s);
  }
}
