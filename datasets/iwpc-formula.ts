/**
 * IWPC pharmacogenetic warfarin dosing algorithm.
 *
 * Source: International Warfarin Pharmacogenetics Consortium, "Estimation of
 * the warfarin dose with clinical and pharmacogenetic data", N Engl J Med
 * 2009;360:753–764 (supplementary appendix). The model predicts the square
 * root of the weekly dose (mg/week); references are VKORC1 -1639 G/G,
 * CYP2C9 *1/*1 and White race.
 */

export const VKORC1_LEVELS = ['G/G', 'A/G', 'A/A', 'unknown'] as const;
export type Vkorc1Level = (typeof VKORC1_LEVELS)[number];
/** Observable genotypes only (no 'unknown'). */
export const VKORC1_GENOTYPES = ['G/G', 'A/G', 'A/A'] as const;
export type Vkorc1Genotype = (typeof VKORC1_GENOTYPES)[number];

export const CYP2C9_LEVELS = ['*1/*1', '*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3', 'unknown'] as const;
export type Cyp2c9Level = (typeof CYP2C9_LEVELS)[number];
export const CYP2C9_GENOTYPES = ['*1/*1', '*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3'] as const;
export type Cyp2c9Genotype = (typeof CYP2C9_GENOTYPES)[number];

export const RACE_LEVELS = ['White', 'Asian', 'Black', 'unknown'] as const;
export type RaceLevel = (typeof RACE_LEVELS)[number];

export interface IwpcPatient {
  ageYears: number;
  heightCm: number;
  weightKg: number;
  vkorc1: Vkorc1Level;
  cyp2c9: Cyp2c9Level;
  race: RaceLevel;
  /** Carbamazepine, phenytoin or rifampin. */
  enzymeInducer: boolean;
  amiodarone: boolean;
}

/** Coefficients on the sqrt(weekly dose) scale; reference levels are 0. */
export const IWPC_COEFFICIENTS = {
  intercept: 5.6044,
  ageDecades: -0.2614,
  heightCm: 0.0087,
  weightKg: 0.0128,
  vkorc1: { 'G/G': 0, 'A/G': -0.8677, 'A/A': -1.6974, unknown: -0.4854 },
  cyp2c9: {
    '*1/*1': 0,
    '*1/*2': -0.5211,
    '*1/*3': -0.9357,
    '*2/*2': -1.0616,
    '*2/*3': -1.9206,
    '*3/*3': -2.3312,
    unknown: -0.2188,
  },
  // 'unknown' is the IWPC "missing or mixed race" level.
  race: { White: 0, Asian: -0.1092, Black: -0.276, unknown: -0.1032 },
  enzymeInducer: 1.1816,
  amiodarone: -0.5503,
} as const satisfies {
  intercept: number;
  ageDecades: number;
  heightCm: number;
  weightKg: number;
  vkorc1: Record<Vkorc1Level, number>;
  cyp2c9: Record<Cyp2c9Level, number>;
  race: Record<RaceLevel, number>;
  enzymeInducer: number;
  amiodarone: number;
};

/** IWPC encodes age as completed decades (65 years -> 6). */
export function ageDecades(ageYears: number): number {
  return Math.floor(ageYears / 10);
}

/** Predicted sqrt(weekly warfarin dose in mg). */
export function iwpcSqrtDose(p: IwpcPatient): number {
  const c = IWPC_COEFFICIENTS;
  return (
    c.intercept +
    c.ageDecades * ageDecades(p.ageYears) +
    c.heightCm * p.heightCm +
    c.weightKg * p.weightKg +
    c.vkorc1[p.vkorc1] +
    c.cyp2c9[p.cyp2c9] +
    c.race[p.race] +
    (p.enzymeInducer ? c.enzymeInducer : 0) +
    (p.amiodarone ? c.amiodarone : 0)
  );
}

/** Predicted weekly warfarin dose in mg/week (the model is fitted on the sqrt scale). */
export function iwpcWeeklyDose(p: IwpcPatient): number {
  const s = iwpcSqrtDose(p);
  return s * s;
}
