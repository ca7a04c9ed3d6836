// The aggregation maths, as plain functions over typed arrays (as Flower's aggregate.py): no
// state, no I/O, each tested on small hand-worked vectors. The aggregators hold the buffers and
// call these; nothing else in the strategies loops over weights.

/** FedAdam's server hyperparameters (fedadam.ts states their bounds and defaults). */
export interface AdamHyperparameters {
  readonly serverLr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
}

/**
 * dst[i] = src[i] + w·x[i] for every i, in one pass; true when every result is finite.
 *
 * The finiteness check rides in the same loop: r·0 is 0 for a finite r and NaN for NaN or
 * ±Infinity, so the sum of them is 0 exactly when all are finite. A result is non-finite exactly
 * when its x[i] is (|w·x[i]| < 2^53·2^128 cannot overflow a float64 sum of a few thousand sites).
 * `src` is only read, so a refused update leaves the running sum exactly as it was: the caller
 * keeps `src` and folds the next update into `dst` again. Two accumulators, so the check does not
 * serialise the loop on one addition chain.
 */
export function foldWeighted(dst: Float64Array, src: Float64Array, w: number, x: Float32Array): boolean {
  const n = x.length;
  let bad0 = 0;
  let bad1 = 0;
  let i = 0;
  for (; i < n - 1; i += 2) {
    const a = src[i]! + w * x[i]!;
    const b = src[i + 1]! + w * x[i + 1]!;
    dst[i] = a;
    dst[i + 1] = b;
    bad0 += a * 0;
    bad1 += b * 0;
  }
  if (i < n) {
    const a = src[i]! + w * x[i]!;
    dst[i] = a;
    bad0 += a * 0;
  }
  return bad0 + bad1 === 0;
}

/** sum[i] -= w·x[i]: a chunk folded by foldWeighted taken back out (a chunked update that failed). */
export function unfoldWeighted(sum: Float64Array, w: number, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) sum[i] = sum[i]! - w * x[i]!;
}

/** sum[i] / total, rounded once to float32 (as sum[i] · (1/total), the rounding every strategy uses). */
export function meanOf(sum: Float64Array, total: number): Float32Array {
  const inv = 1 / total;
  const out = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i]! * inv;
  return out;
}

/**
 * One FedAdam server step (Reddi et al. 2021, Algorithm 2, no bias correction) on one tensor, from
 * the float64 weighted sum of the sites' weights, never rounded to float32 before Δ is taken:
 *   Δ = sum/total − w    m ← β1·m + (1−β1)·Δ    v ← β2·v + (1−β2)·Δ²    w' = w + η·m/(√v + τ)
 * m and v are updated in place; returns w'.
 */
export function adamStep(w: Float32Array, sum: Float64Array, total: number, m: Float64Array, v: Float64Array, h: AdamHyperparameters): Float32Array {
  const { serverLr, beta1, beta2, tau } = h;
  const inv = 1 / total;
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const d = sum[i]! * inv - w[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * d;
    const vi = beta2 * v[i]! + (1 - beta2) * d * d;
    m[i] = mi;
    v[i] = vi;
    out[i] = w[i]! + (serverLr * mi) / (Math.sqrt(vi) + tau);
  }
  return out;
}
