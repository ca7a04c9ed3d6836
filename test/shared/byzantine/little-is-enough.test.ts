import { describe, expect, it } from 'vitest';
import { littleIsEnough, littleIsEnoughZ } from '../../../shared/byzantine/little-is-enough.js';
import { thrownCode } from '../../helpers/error-code.js';

const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);

describe('little is enough', () => {
  it("z is the paper's z_max: s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − s)/n)", () => {
    // n = 22, f = 4: s = 12 − 4 = 8, Φ⁻¹(14/22); f = 2: s = 10, Φ⁻¹(12/22); n = 5, f = 1: s = 2, Φ⁻¹(3/5).
    expect(littleIsEnoughZ(22, 4)).toBeCloseTo(0.3487556955170447, 8);
    expect(littleIsEnoughZ(22, 2)).toBeCloseTo(0.1141852943214282, 8);
    expect(littleIsEnoughZ(5, 1)).toBeCloseTo(0.2533471031357997, 8);
  });

  it('refuses a hostile majority, no hostile site, or fractional counts', () => {
    for (const [n, f] of [[22, 11], [4, 2], [22, 0], [22.5, 2], [22, 1.5]] as const) expect(thrownCode(() => littleIsEnoughZ(n, f))).toBe('E_BAD_REQUEST');
  });

  it('shifts each coordinate by z sample standard deviations below the mean of what the colluders see', () => {
    // Coordinate 0: 1, 3, 5 → mean 3, sample σ 2; coordinate 1: all 2 → σ 0, unshifted.
    const out = littleIsEnough([f32(1, 2), f32(3, 2), f32(5, 2)], 0.5);
    expect(Array.from(out)).toEqual([2, 2]);
    // One seen update: σ = 0, sent as it is.
    expect(Array.from(littleIsEnough([f32(1.5, -2)], 1))).toEqual([1.5, -2]);
  });

  it('refuses nothing to estimate from, updates of different lengths and a non-finite z', () => {
    expect(thrownCode(() => littleIsEnough([], 1))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => littleIsEnough([f32(1, 2), f32(1)], 1))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => littleIsEnough([f32(1)], Number.NaN))).toBe('E_BAD_REQUEST');
  });
});
