// Which exact algorithm fits the data's shape. With N training rows and d features the
// factored statistics cost min(N, d+2)·(d+2) float64 per site to send, and the coordinator an
// eigendecomposition of size m = min(N, d+2) per fold (O(m³), plus O(N·d·m) to form it); the
// conjugate-gradient path costs (d+1) float64 each way per iteration and no decomposition, but a
// round trip per iteration and one penalty per solve. Measured here (README, Benchmarks): the
// decomposition takes about 1 s at m = 500 and about 8 s at m = 1,000 in plain JS, so beyond
// MAX_FACTOR_RANK the solve moves to the sites' products.

export const MAX_FACTOR_RANK = 1200;

export type ExactMode = 'factors' | 'products';

export function exactMode(width: number, trainingRows: number): ExactMode {
  return Math.min(trainingRows, width + 2) <= MAX_FACTOR_RANK ? 'factors' : 'products';
}
