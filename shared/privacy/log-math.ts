// Log-space helpers for the RDP accountant (rdp.ts): sums and differences of numbers held as their
// logarithms, and log erfc, accurate far into the tail where erfc itself underflows.

/** log(eˣ + eʸ), exact when either is −∞. */
export function logAdd(x: number, y: number): number {
  const a = Math.min(x, y);
  const b = Math.max(x, y);
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(eˣ − eʸ) for x ≥ y; −∞ when they are equal. */
export function logSub(x: number, y: number): number {
  if (x < y) throw new RangeError('logSub needs x ≥ y');
  if (y === -Infinity) return x;
  if (x === y) return -Infinity;
  const d = x - y;
  // expm1 overflows past ~709: then eˣ − eʸ is eˣ to double precision.
  return d > 700 ? x : Math.log(Math.expm1(d)) + y;
}

/** log |C(α, i)| and the sign of C(α, i), for any real α ≥ 0 and integer i ≥ 0 (by the product formula). */
export function logAbsBinomial(alpha: number, i: number): { log: number; sign: 1 | -1 } {
  let log = 0;
  let sign: 1 | -1 = 1;
  for (let k = 1; k <= i; k++) {
    const f = alpha - k + 1;
    if (f === 0) return { log: -Infinity, sign: 1 };
    if (f < 0) sign = sign === 1 ? -1 : 1;
    log += Math.log(Math.abs(f)) - Math.log(k);
  }
  return { log, sign };
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log erfc(x) for any real x, to about 1e-11 relative (1 − erf loses digits just below 3). Below 3: erf by its all-positive series
 * (2x/√π)·e^(−x²)·Σ (2x²)ⁿ/(1·3·…·(2n+1)), so nothing cancels; from 3 up: the continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))), kept in log space.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 3) {
    let f = x;
    for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
    return -x * x - LOG_SQRT_PI - Math.log(f);
  }
  const e = erfSeries(Math.abs(x));
  return Math.log(x < 0 ? 1 + e : 1 - e);
}

/** erf(x) for 0 ≤ x < 3 by the series above. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 * x * Math.exp(-x2) * sum) / Math.sqrt(Math.PI);
}
