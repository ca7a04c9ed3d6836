import { describe, expect, it } from 'vitest';
import { compressionFields } from '../../cli/compression-flags.js';
import { thrownCode } from '../helpers/error-code.js';

describe('run start --compression and --topk-fraction', () => {
  it('build the POST fields', () => {
    expect(compressionFields({})).toEqual({});
    expect(compressionFields({ compression: 'float16' })).toEqual({ compression: 'float16' });
    expect(compressionFields({ compression: 'topk', topkFraction: '0.05' })).toEqual({ compression: 'topk', topkFraction: 0.05 });
    expect(compressionFields({ compression: 'none' })).toEqual({ compression: 'none' });
  });

  it('refuse an unknown codec, a fraction outside (0, 1) or not a number, and a fraction without topk, with E_COMPRESSION_SETTINGS, before sending', () => {
    for (const o of [
      { compression: 'zip' },
      { compression: 'topk', topkFraction: '0' },
      { compression: 'topk', topkFraction: '1' },
      { compression: 'topk', topkFraction: 'NaN' },
      { compression: 'topk', topkFraction: 'abc' },
      { compression: 'topk', topkFraction: '' },
      { topkFraction: '0.1' },
      { compression: 'float16', topkFraction: '0.1' },
    ]) expect(thrownCode(() => compressionFields(o)), JSON.stringify(o)).toBe('E_COMPRESSION_SETTINGS');
  });
});
