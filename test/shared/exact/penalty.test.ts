import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../helpers/error-code.js';
import { isSearch, parseL2, penaltyGrid } from '../../../shared/exact/penalty.js';


describe('penalties', () => {
  it('parses --l2 as a value, a list or auto', () => {
    expect(parseL2('0.5')).toBe(0.5);
    expect(parseL2('1, 0.1,10')).toEqual([1, 0.1, 10]);
    expect(parseL2('auto')).toBe('auto');
    expect(penaltyGrid([1, 0.1, 10, 1])).toEqual([0.1, 1, 10]);
    expect(isSearch([0.1, 1])).toBe(true);
    expect(isSearch([0.1])).toBe(false);
    expect(isSearch(0.1)).toBe(false);
  });

  it('refuses a negative, NaN, infinite or missing value and an empty or oversized grid (E_BAD_PENALTY)', () => {
    for (const bad of ['-1', 'NaN', '0.1,NaN', 'Infinity', '0.1,,1', '', ' ', 'abc', Array(65).fill('1').join(',')]) {
      expect(thrownCode(() => parseL2(bad)), bad).toBe('E_BAD_PENALTY');
    }
    expect(thrownCode(() => penaltyGrid([]))).toBe('E_BAD_PENALTY');
    expect(thrownCode(() => penaltyGrid([0.1, -2]))).toBe('E_BAD_PENALTY');
    expect(thrownCode(() => penaltyGrid(Number.NaN))).toBe('E_BAD_PENALTY');
  });

  it("'auto' spans 10⁻³ to 10³ around 2·(mean eigenvalue)/n in half-decades", () => {
    const g = penaltyGrid('auto', { meanEigenvalue: 50, n: 100 });
    expect(g).toHaveLength(13);
    expect(g[6]).toBeCloseTo(1, 12);
    expect(g[0]).toBeCloseTo(1e-3, 15);
    expect(g[12]).toBeCloseTo(1e3, 9);
  });
});
