import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../../../shared/byzantine/normal-quantile.js';
import { thrownCode } from '../../helpers/error-code.js';

describe('normalQuantile', () => {
  it('inverts the standard normal CDF (reference values to 1e-8)', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.8413447460685429)).toBeCloseTo(1, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874040841, 8); // lower tail branch
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232306167813, 8); // upper tail by symmetry
  });

  it('refuses p outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, Number.NaN]) expect(thrownCode(() => normalQuantile(p))).toBe('E_BAD_REQUEST');
  });
});
