import { describe, expect, it } from 'vitest';
import { packSparse, scatter, unpackSparse } from '../../../shared/compression/sparse.js';
import { topK, topkCount } from '../../../shared/compression/top-k.js';
import { thrownCode } from '../../helpers/error-code.js';

describe('top-k', () => {
  it('k is ⌈f·n⌉, at least 1, with f·n rounded first', () => {
    expect(topkCount(0.01, 500)).toBe(5);
    expect(topkCount(0.07, 100)).toBe(7); // 0.07 · 100 = 7.000000000000001 in doubles
    expect(topkCount(0.01, 30)).toBe(1);
    expect(topkCount(0.001, 10)).toBe(1);
    expect(topkCount(0.25, 10)).toBe(3);
  });

  it('keeps the largest magnitudes, in index order, sign kept', () => {
    const v = new Float32Array([0.1, -3, 2, 0, -0.5, 4]);
    const { indices, values } = topK(v, 3);
    expect(Array.from(indices)).toEqual([1, 2, 5]);
    expect(Array.from(values)).toEqual([-3, 2, 4]);
  });

  it('breaks ties by the lower index, deterministically', () => {
    // |−1| = |1| = |1| tie for two places behind 5: indices 0 and 2 win over 3.
    const v = new Float32Array([-1, 0.5, 1, 1, 5]);
    expect(Array.from(topK(v, 3).indices)).toEqual([0, 2, 4]);
    expect(Array.from(topK(new Float32Array([2, 2, 2, 2]), 2).indices)).toEqual([0, 1]);
  });

  it('refuses a non-finite value', () => {
    expect(thrownCode(() => topK(new Float32Array([1, Number.NaN]), 1))).toBe('E_NON_FINITE');
  });
});

describe('sparse words', () => {
  it('packs indices then float32 bits, and reads them back', () => {
    const words = packSparse({ indices: new Uint32Array([1, 5]), values: new Float32Array([-3, 0.25]) });
    expect(words.length).toBe(4);
    expect(Array.from(words.subarray(0, 2))).toEqual([1, 5]);
    expect(words[2]).toBe(0xc0400000); // −3 as float32 bits
    const back = unpackSparse(words, 6, 2);
    expect(Array.from(scatter(back, 6))).toEqual([0, -3, 0, 0, 0, 0.25]);
  });

  // Attacker-controlled: each of these is refused before the dense vector is allocated.
  it('refuses an index out of range, indices not strictly increasing, too many entries, an odd length, a NaN value', () => {
    const words = (indices: number[], values: number[]): Uint32Array => packSparse({ indices: new Uint32Array(indices), values: new Float32Array(values) });
    expect(thrownCode(() => unpackSparse(words([1, 6], [1, 1]), 6, 2))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => unpackSparse(words([3, 3], [1, 1]), 6, 2))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => unpackSparse(words([3, 2], [1, 1]), 6, 2))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => unpackSparse(words([0, 1, 2], [1, 1, 1]), 6, 2))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => unpackSparse(new Uint32Array(3), 6, 2))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => unpackSparse(words([0, 1], [1, Number.NaN]), 6, 2))).toBe('E_NON_FINITE');
    expect(thrownCode(() => unpackSparse(words([0, 1], [Infinity, 1]), 6, 2))).toBe('E_NON_FINITE');
  });
});
