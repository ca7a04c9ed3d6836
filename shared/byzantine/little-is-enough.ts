// "A little is enough" (Baruch, Baruch and Goldberg, NeurIPS 2019): f colluding sites each send
// μ − z·σ, coordinate by coordinate, where μ and σ are the mean and standard deviation of the
// honest updates they can see. z is the largest shift that still leaves the hostile value closer
// to the middle than enough honest ones for a majority: with s = ⌊n/2 + 1⌋ − f honest sites
// needed on its side, z = Φ⁻¹((n − s)/n). Small enough to pass median, trimmed mean and Krum, and
// applied to every coordinate at once.

import { FedrxError } from '../errors.js';
import { normalQuantile } from './normal-quantile.js';

/** The paper's z_max for n sites in the round of which f collude (1 ≤ f < n/2). */
export function littleIsEnoughZ(n: number, f: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(f) || f < 1 || 2 * f >= n) {
    throw new FedrxError('E_BAD_REQUEST', `little-is-enough needs integers 1 ≤ f < n/2 (a hostile minority), got n = ${n}, f = ${f}`);
  }
  const s = Math.floor(n / 2 + 1) - f;
  return normalQuantile((n - s) / n);
}

/**
 * μ − z·σ over `seen` (deltas of equal length). σ is the sample standard deviation (n − 1); one
 * seen update gives σ = 0, so the colluders then send it as it is.
 */
export function littleIsEnough(seen: readonly Float32Array[], z: number): Float32Array {
  const k = seen.length;
  if (k === 0) throw new FedrxError('E_BAD_REQUEST', 'little-is-enough needs at least one honest update to estimate from');
  if (!Number.isFinite(z)) throw new FedrxError('E_BAD_REQUEST', `little-is-enough needs a finite z, got ${z}`);
  const d = seen[0]!.length;
  if (seen.some((u) => u.length !== d)) throw new FedrxError('E_BAD_REQUEST', `the seen updates differ in length (expected ${d} values each)`);
  const out = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (const u of seen) sum += u[j]!;
    const mean = sum / k;
    let ss = 0;
    for (const u of seen) ss += (u[j]! - mean) ** 2;
    const sd = k > 1 ? Math.sqrt(ss / (k - 1)) : 0;
    out[j] = mean - z * sd;
  }
  return out;
}
