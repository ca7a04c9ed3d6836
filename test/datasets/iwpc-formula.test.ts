import { describe, expect, it } from 'vitest';
import {
  CYP2C9_LEVELS,
  IWPC_COEFFICIENTS,
  iwpcSqrtDose,
  iwpcWeeklyDose,
  VKORC1_LEVELS,
  type IwpcPatient,
} from '../../datasets/iwpc-formula.js';

const base: IwpcPatient = {
  ageYears: 65,
  heightCm: 170,
  weightKg: 80,
  vkorc1: 'A/G',
  cyp2c9: '*1/*1',
  race: 'White',
  enzymeInducer: false,
  amiodarone: false,
};

describe('IWPC 2009 formula', () => {
  it('matches a hand-computed example', () => {
    // 5.6044 − 0.2614·6 + 0.0087·170 + 0.0128·80 − 0.8677
    // = 5.6044 − 1.5684 + 1.4790 + 1.0240 − 0.8677 = 5.6713
    expect(iwpcSqrtDose(base)).toBeCloseTo(5.6713, 10);
    // 5.6713² = 32.16364369 mg/week
    expect(iwpcWeeklyDose(base)).toBeCloseTo(32.16364369, 8);
  });

  it('uses completed decades of age', () => {
    // 60 and 69 are both decade 6; 70 is decade 7.
    expect(iwpcSqrtDose({ ...base, ageYears: 60 })).toBeCloseTo(iwpcSqrtDose({ ...base, ageYears: 69 }), 12);
    expect(iwpcSqrtDose({ ...base, ageYears: 70 }) - iwpcSqrtDose(base)).toBeCloseTo(-0.2614, 12);
  });

  it('applies each categorical effect relative to its reference', () => {
    const ref = iwpcSqrtDose(base);
    // 36-year-old Asian, 160 cm, 60 kg, A/A, *1/*3, on amiodarone:
    // 5.6044 − 0.2614·3 + 0.0087·160 + 0.0128·60 − 1.6974 − 0.9357 − 0.1092 − 0.5503
    // = 5.6044 − 0.7842 + 1.392 + 0.768 − 1.6974 − 0.9357 − 0.1092 − 0.5503 = 3.6876
    expect(
      iwpcSqrtDose({
        ...base,
        ageYears: 36,
        heightCm: 160,
        weightKg: 60,
        vkorc1: 'A/A',
        cyp2c9: '*1/*3',
        race: 'Asian',
        amiodarone: true,
      }),
    ).toBeCloseTo(3.6876, 10);
    expect(iwpcSqrtDose({ ...base, enzymeInducer: true }) - ref).toBeCloseTo(1.1816, 12);
    expect(iwpcSqrtDose({ ...base, race: 'Black' }) - ref).toBeCloseTo(-0.276, 12);
    expect(iwpcSqrtDose({ ...base, race: 'unknown' }) - ref).toBeCloseTo(-0.1032, 12);
    expect(iwpcSqrtDose({ ...base, cyp2c9: '*3/*3' }) - ref).toBeCloseTo(-2.3312, 12);
    expect(iwpcSqrtDose({ ...base, vkorc1: 'G/G' }) - ref).toBeCloseTo(0.8677, 12);
  });

  it('has a coefficient for every level, with zero at the reference', () => {
    expect(VKORC1_LEVELS.map((l) => IWPC_COEFFICIENTS.vkorc1[l])).toEqual([0, -0.8677, -1.6974, -0.4854]);
    expect(CYP2C9_LEVELS.map((l) => IWPC_COEFFICIENTS.cyp2c9[l])).toEqual([
      0, -0.5211, -0.9357, -1.0616, -1.9206, -2.3312, -0.2188,
    ]);
  });
});
