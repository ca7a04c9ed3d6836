import { describe, expect, it } from 'vitest';
import { dpField } from '../../cli/dp-flags.js';
import { thrownCode } from '../helpers/error-code.js';

describe('run start --dp-* flags', () => {
  it('build the dp field', () => {
    expect(dpField({})).toBeUndefined();
    expect(dpField({ dpNoiseMultiplier: '1.1', dpClip: '0.5' })).toEqual({ noiseMultiplier: 1.1, clip: 0.5 });
    expect(dpField({ dpNoiseMultiplier: '1.1', dpClip: '0.5', dpDelta: '1e-5' })).toEqual({ noiseMultiplier: 1.1, clip: 0.5, delta: 1e-5 });
  });

  it('refuse NaN, 0, negative values, δ ≥ 1 and one flag without the other with E_DP_SETTINGS, before sending', () => {
    for (const o of [
      { dpNoiseMultiplier: 'NaN', dpClip: '1' },
      { dpNoiseMultiplier: '0', dpClip: '1' },
      { dpNoiseMultiplier: '-1', dpClip: '1' },
      { dpNoiseMultiplier: '1', dpClip: '0' },
      { dpNoiseMultiplier: '1', dpClip: 'abc' },
      { dpNoiseMultiplier: '1', dpClip: '1', dpDelta: '1' },
      { dpNoiseMultiplier: '1' },
      { dpDelta: '0.01' },
    ]) expect(thrownCode(() => dpField(o)), JSON.stringify(o)).toBe('E_DP_SETTINGS');
  });
});
