// Ridge by conjugate gradient when X̃ᵀX̃ is too big to send: the same objective as RidgePath,
//   (1/n)·‖Xw + b − y‖² + λ/2·‖w‖²  ⇔  (X̃ᵀX̃ + α·D)·β = X̃ᵀy,  α = nλ/2, D = diag(1,…,1,0),
// solved from products X̃ᵀX̃·p that the sites compute on their own rows and the coordinator sums.

import { conjugateGradient } from '../linalg/conjugate-gradient.js';
import type { RidgeFit } from './ridge-path.js';

export interface CgFit extends RidgeFit {
  iterations: number;
  relResidual: number;
}

/**
 * `xty`: the summed X̃ᵀy (width + 1 values); `product(p)`: the summed X̃ᵀX̃·p. The relative residual
 * tolerance 1e-10 keeps the coefficients within 1e-6 of the exact solution for any sane penalty.
 */
export async function ridgeByCg(
  width: number,
  n: number,
  lambda: number,
  xty: Float64Array,
  product: (p: Float64Array) => Promise<Float64Array>,
  opts: { tol?: number; maxIterations?: number; onIteration?: (i: number, rel: number) => void } = {},
): Promise<CgFit> {
  const alpha = (n * lambda) / 2;
  const apply = async (p: Float64Array): Promise<Float64Array> => {
    const q = await product(p);
    for (let j = 0; j < width; j++) q[j]! += alpha * p[j]!;
    return q;
  };
  const r = await conjugateGradient(apply, xty, {
    tol: opts.tol ?? 1e-10,
    maxIterations: opts.maxIterations ?? 2000,
    ...(opts.onIteration === undefined ? {} : { onIteration: opts.onIteration }),
  });
  return { lambda, w: r.x.slice(0, width), b: r.x[width]!, iterations: r.iterations, relResidual: r.relResidual };
}
