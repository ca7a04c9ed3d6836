import { describe, expect, it } from 'vitest';
import { effectiveNoiseMultiplier, resolveDpConfig, siteNoiseStd } from '../../../shared/privacy/dp-settings.js';
import { thrownCode } from '../../helpers/error-code.js';

const expectCode = (f: () => unknown, code: string): void => {
  expect(thrownCode(f)).toBe(code);
};

describe('DP settings', () => {
  it('refuses a noise multiplier of 0, negative, NaN or infinite with E_DP_SETTINGS', () => {
    for (const z of [0, -1, NaN, Infinity]) expectCode(() => resolveDpConfig({ noiseMultiplier: z, clip: 1 }, 10), 'E_DP_SETTINGS');
  });

  it('refuses a clip of 0, negative or NaN', () => {
    for (const c of [0, -0.5, NaN]) expectCode(() => resolveDpConfig({ noiseMultiplier: 1, clip: c }, 10), 'E_DP_SETTINGS');
  });

  it('refuses δ ≥ 1/n for n registered sites, and any δ with none registered', () => {
    expectCode(() => resolveDpConfig({ noiseMultiplier: 1, clip: 1, delta: 0.1 }, 10), 'E_DP_SETTINGS');
    expectCode(() => resolveDpConfig({ noiseMultiplier: 1, clip: 1, delta: 0.2 }, 10), 'E_DP_SETTINGS');
    expectCode(() => resolveDpConfig({ noiseMultiplier: 1, clip: 1, delta: NaN }, 10), 'E_DP_SETTINGS');
    expectCode(() => resolveDpConfig({ noiseMultiplier: 1, clip: 1 }, 0), 'E_DP_SETTINGS');
    expect(resolveDpConfig({ noiseMultiplier: 1, clip: 1, delta: 0.0999 }, 10).delta).toBe(0.0999);
  });

  it('fills in δ = n^-1.1', () => {
    expect(resolveDpConfig({ noiseMultiplier: 1.2, clip: 0.5 }, 10)).toEqual({ noiseMultiplier: 1.2, clip: 0.5, delta: 10 ** -1.1 });
  });

  it('gives each site no noise in a plain round, Z·C/√m of it when distributed', () => {
    expect(siteNoiseStd({ noiseMultiplier: 2, clip: 3 }, 4, false)).toBe(0);
    expect(siteNoiseStd({ noiseMultiplier: 2, clip: 3 }, 4, true)).toBe(3);
    // 4 shares of variance 9 sum to 36 = (Z·C)²; with 1 of them missing, σ = 2·√(3/4)
    expect(effectiveNoiseMultiplier(2, 3, 4)).toBeCloseTo(Math.sqrt(3), 14);
  });
});
