import { describe, expect, it } from 'vitest';
import { decodeHalves, encodeHalves, HALF_MAX, halfBits, halfValue } from '../../../shared/compression/float16.js';
import { thrownCode } from '../../helpers/error-code.js';

describe('float16', () => {
  it('encodes hand-worked values: the largest finite, the normal/subnormal edge, the smallest subnormal, −0', () => {
    // 65504 = (1 + 1023/1024) · 2^15: exponent 30, mantissa all ones.
    expect(halfBits(65504)).toBe(0x7bff);
    // 6.1e-5 is just below 2^-14 = 6.1035e-5: subnormal, 6.1e-5 · 2^24 = 1023.41 → 1023 units of 2^-24.
    expect(halfBits(6.1e-5)).toBe(0x03ff);
    expect(halfBits(2 ** -14)).toBe(0x0400);
    // 5.96e-8 · 2^24 = 0.99992 → 1: the smallest subnormal, 2^-24 = 5.9605e-8.
    expect(halfBits(5.96e-8)).toBe(0x0001);
    expect(halfBits(-0)).toBe(0x8000);
    expect(halfBits(0)).toBe(0x0000);
    expect(halfBits(1)).toBe(0x3c00);
    expect(halfBits(-2)).toBe(0xc000);
    // 0.1 = 1.6 · 2^-4: mantissa 0.6 · 1024 = 614.4 → 614 = 0x266, exponent 11.
    expect(halfBits(0.1)).toBe(0x2e66);
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even mantissa, 0.
    expect(halfBits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 is halfway between mantissas 1 and 2: to 2.
    expect(halfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // 2^-25 is half the smallest subnormal: ties to 0; 3·2^-25 is 1.5 units: to 2.
    expect(halfBits(2 ** -25)).toBe(0x0000);
    expect(halfBits(3 * 2 ** -25)).toBe(0x0002);
    // Rounding up carries into the exponent: just below 2^-14 into the smallest normal, and 2047.75
    // (halves are 1 apart in [1024, 2048)) up to 2048 = 2^11.
    expect(halfBits(2 ** -14 - 2 ** -26)).toBe(0x0400);
    expect(halfBits(2047.75)).toBe(0x6800);
    // 65519 is below the midpoint 65520 between 65504 and 2^16: still 65504.
    expect(halfBits(65519)).toBe(0x7bff);
  });

  it('decodes hand-worked patterns, −0 included, and every finite pattern round-trips', () => {
    expect(halfValue(0x7bff)).toBe(HALF_MAX);
    expect(halfValue(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfValue(0x0001)).toBe(2 ** -24);
    expect(Object.is(halfValue(0x8000), -0)).toBe(true);
    expect(halfValue(0x2e66)).toBe(0.0999755859375);
    // Every finite pattern survives a round trip.
    const off: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if (((h >>> 10) & 0x1f) !== 0x1f && halfBits(halfValue(h)) !== h) off.push(h);
    }
    expect(off).toEqual([]);
  });

  it('refuses overflow, NaN and ±Infinity with E_NON_FINITE, rather than clipping them', () => {
    expect(thrownCode(() => halfBits(65520))).toBe('E_NON_FINITE');
    expect(thrownCode(() => halfBits(-1e6))).toBe('E_NON_FINITE');
    expect(thrownCode(() => halfBits(Number.NaN))).toBe('E_NON_FINITE');
    expect(thrownCode(() => encodeHalves(new Float32Array([1, Infinity])))).toBe('E_NON_FINITE');
    // On the wire (attacker-controlled): the Inf and NaN patterns.
    expect(thrownCode(() => decodeHalves(new Uint16Array([0x3c00, 0x7c00])))).toBe('E_NON_FINITE');
    expect(thrownCode(() => decodeHalves(new Uint16Array([0xfe01])))).toBe('E_NON_FINITE');
  });

  it('vectors: float32 in, the nearest halves out', () => {
    const v = new Float32Array([0.5, -0.25, 3.14159, 1e-8]);
    expect(Array.from(decodeHalves(encodeHalves(v)))).toEqual([0.5, -0.25, 3.140625, 0]);
  });
});
