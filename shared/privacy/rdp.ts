// The Rényi-DP accountant of the sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019), as
// Opacus and TF-Privacy compute it: RDP per order for one step, summed over steps (composition),
// then converted to (ε, δ) with the bound of Balle et al. 2020. Pure maths, no I/O.

import { logAbsBinomial, logAdd, logErfc, logSub } from './log-math.js';

/** One mechanism applied `steps` times: sampling rate q, noise multiplier σ (noise std / sensitivity). */
export interface GaussianSteps {
  q: number;
  sigma: number;
  steps: number;
}

/** Opacus' default orders: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
];

/** RDP of one step of the sampled Gaussian mechanism at order α (> 1). */
export function rdpSampledGaussian(q: number, sigma: number, alpha: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate must be in [0, 1], got ${q}`);
  if (!(sigma >= 0)) throw new RangeError(`noise multiplier must be ≥ 0, got ${sigma}`);
  if (!(alpha > 1)) throw new RangeError(`RDP order must be > 1, got ${alpha}`);
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAIntegerOrder(q, sigma, alpha) : logAFractionalOrder(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** log A_α for an integer α: the binomial sum Σᵢ C(α,i)·qⁱ(1−q)^(α−i)·exp((i²−i)/(2σ²)). */
function logAIntegerOrder(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    const term = logAbsBinomial(alpha, i).log + i * Math.log(q) + (alpha - i) * Math.log1p(-q) + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

/** log A_α for a fractional α: the two-sided series of Mironov et al. (TF-Privacy's _compute_log_a_frac). */
function logAFractionalOrder(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const s2 = 2 * sigma * sigma;
  // C(α, i) by its running product: log |C| and its sign, one factor per term.
  let logCoef = 0;
  let sign = 1;
  for (let i = 0; ; i++) {
    if (i > 0) {
      const f = alpha - i + 1;
      if (f < 0) sign = -sign;
      logCoef += Math.log(Math.abs(f)) - Math.log(i);
    }
    const j = alpha - i;
    const logT0 = logCoef + i * Math.log(q) + j * Math.log1p(-q);
    const logT1 = logCoef + j * Math.log(q) + i * Math.log1p(-q);
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / s2 + logE0;
    const logS1 = logT1 + (j * j - j) / s2 + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30 || i > 100000) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP per order of a sequence of mechanisms: the sum over every step (composition). */
export function composeRdp(parts: readonly GaussianSteps[], orders: readonly number[] = DEFAULT_ORDERS): number[] {
  const total = orders.map(() => 0);
  for (const p of parts) {
    if (p.steps === 0) continue;
    orders.forEach((a, k) => {
      total[k] = total[k]! + p.steps * rdpSampledGaussian(p.q, p.sigma, a);
    });
  }
  return total;
}

/** Adds two RDP curves over the same orders. */
export const addRdp = (a: readonly number[], b: readonly number[]): number[] => a.map((x, k) => x + b[k]!);

/**
 * (ε, δ) from RDP per order, by Balle et al. 2020 (Opacus get_privacy_spent):
 * ε = min over α of rdp(α) − (log δ + log α)/(α − 1) + log((α − 1)/α), with the α attaining it.
 */
export function epsilonFromRdp(rdp: readonly number[], orders: readonly number[], delta: number): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ must be in (0, 1), got ${delta}`);
  let best = { epsilon: Infinity, order: NaN };
  orders.forEach((a, k) => {
    const eps = rdp[k]! - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  });
  // A negative bound says nothing more than 0 does.
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/** ε of `steps` steps of one sampled Gaussian mechanism at δ. */
export function epsilonOf(parts: readonly GaussianSteps[], delta: number, orders: readonly number[] = DEFAULT_ORDERS): number {
  return epsilonFromRdp(composeRdp(parts, orders), orders, delta).epsilon;
}

/**
 * The smallest noise multiplier σ (to 1e-4 relative) whose `steps` steps at rate q spend at most
 * `targetEps` at δ: bisection, since ε falls as σ grows.
 */
export function noiseForEpsilon(targetEps: number, delta: number, q: number, steps: number, orders: readonly number[] = DEFAULT_ORDERS): number {
  if (!(targetEps > 0) || !Number.isFinite(targetEps)) throw new RangeError(`target ε must be positive and finite, got ${targetEps}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  const eps = (sigma: number): number => epsilonOf([{ q, sigma, steps }], delta, orders);
  let lo = 0.01;
  let hi = 1;
  while (eps(hi) > targetEps) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) throw new RangeError(`no noise multiplier up to 1e6 reaches ε = ${targetEps}`);
  }
  if (eps(lo) <= targetEps) return lo;
  while ((hi - lo) / hi > 1e-4) {
    const mid = (lo + hi) / 2;
    if (eps(mid) > targetEps) lo = mid;
    else hi = mid;
  }
  return hi;
}
