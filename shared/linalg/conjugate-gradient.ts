// Conjugate gradient for A·x = b with A symmetric positive definite, given only products A·p.
// The product may be asynchronous: in a federated fit each one is a round trip to the sites.

export interface CgResult {
  x: Float64Array;
  iterations: number;
  /** ‖b − A·x‖ / ‖b‖ at the end. */
  relResidual: number;
}

export interface CgOptions {
  x0?: Float64Array;
  /** Stop when ‖r‖ ≤ tol·‖b‖. */
  tol?: number;
  maxIterations?: number;
  onIteration?: (iteration: number, relResidual: number) => void;
}

export async function conjugateGradient(
  apply: (p: Float64Array) => Float64Array | Promise<Float64Array>,
  b: Float64Array,
  opts: CgOptions = {},
): Promise<CgResult> {
  const n = b.length;
  const tol = opts.tol ?? 1e-10;
  const maxIterations = opts.maxIterations ?? 10 * n;
  const x = opts.x0 ? Float64Array.from(opts.x0) : new Float64Array(n);
  const bNorm = Math.sqrt(dot(b, b));
  if (bNorm === 0) return { x: new Float64Array(n), iterations: 0, relResidual: 0 };
  const r = Float64Array.from(b);
  if (opts.x0) {
    const ax = await apply(x);
    for (let i = 0; i < n; i++) r[i]! -= ax[i]!;
  }
  const p = Float64Array.from(r);
  let rr = dot(r, r);
  let iterations = 0;
  while (Math.sqrt(rr) > tol * bNorm && iterations < maxIterations) {
    const ap = await apply(p);
    const alpha = rr / dot(p, ap);
    for (let i = 0; i < n; i++) {
      x[i]! += alpha * p[i]!;
      r[i]! -= alpha * ap[i]!;
    }
    const next = dot(r, r);
    const beta = next / rr;
    rr = next;
    for (let i = 0; i < n; i++) p[i] = r[i]! + beta * p[i]!;
    iterations++;
    opts.onIteration?.(iterations, Math.sqrt(rr) / bNorm);
  }
  return { x, iterations, relResidual: Math.sqrt(rr) / bNorm };
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
