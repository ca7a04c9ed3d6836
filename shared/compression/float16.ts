// IEEE 754 binary16 ("half"): 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits. Rounds to
// nearest, ties to even, straight from the input double (no double rounding through float32);
// subnormals (multiples of 2^-24 below 2^-14) are exact. Largest finite: 65504.
//
// Overflow is refused, not clipped to ±65504 or sent as ±Infinity: a change from the global model
// that large in one weight means training diverged, and a clipped update would not be the one the
// site trained. The refusal is E_NON_FINITE, the code the coordinator gives any non-finite update.
// The decoder reads bits that arrived on a socket: the Inf/NaN patterns (exponent 31) are refused.

import { FedrxError } from '../errors.js';

/** 65504: the largest finite half. */
export const HALF_MAX = 65504;
/** Halfway between 65504 and 2^16: a magnitude from here on rounds to infinity. */
const OVERFLOW_FROM = 65520;
const MIN_NORMAL = 2 ** -14;

/** Nearest integer to v ≥ 0, ties to the even one (exact for doubles: v − ⌊v⌋ is exact). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The half bit pattern nearest `x`; E_NON_FINITE for NaN, ±Infinity or |x| ≥ 65520. */
export function halfBits(x: number, where = 'value'): number {
  if (!Number.isFinite(x)) throw new FedrxError('E_NON_FINITE', `${where} is not finite`);
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= OVERFLOW_FROM) throw new FedrxError('E_NON_FINITE', `${where} is beyond float16's largest value ${HALF_MAX} (training diverged?)`);
  // Subnormal or zero: a count of 2^-24; a count of 1024 is 2^-14, whose pattern is the smallest normal's.
  if (a < MIN_NORMAL) return sign | roundHalfEven(a * 2 ** 24);
  let e = Math.floor(Math.log2(a));
  // log2 may be off by one near powers of two: settle e so that 2^e ≤ a < 2^(e+1).
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven(a * 2 ** (10 - e)); // 1024 ≤ m ≤ 2048
  if (m === 2048) {
    e++;
    m = 1024;
  }
  return sign | ((e + 15) << 10) | (m - 1024);
}

/** The value of a half bit pattern; E_NON_FINITE for the Inf and NaN patterns (exponent 31). */
export function halfValue(h: number, where = 'value'): number {
  const exp = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0x1f) throw new FedrxError('E_NON_FINITE', `${where} is ${m === 0 ? 'infinite' : 'NaN'} (float16 pattern 0x${h.toString(16)})`);
  if (exp === 0) return sign * m * 2 ** -24;
  return sign * (1024 + m) * 2 ** (exp - 25);
}

/** Each value as a half; E_NON_FINITE naming the first index that has none. */
export function encodeHalves(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]!, `value ${i}`);
  return out;
}

/** Attacker-controlled bits: each as a float32, E_NON_FINITE naming the first Inf or NaN. */
export function decodeHalves(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = halfValue(halves[i]!, `value ${i}`);
  return out;
}
