/**
 * Synthetic warfarin cohort: plausible demographics, pharmacogenotypes drawn
 * under Hardy–Weinberg from ancestry-specific allele frequencies, and a weekly
 * dose generated from the IWPC 2009 model plus noise. No real patient data.
 *
 * Allele frequencies are rounded from the PharmGKB/CPIC frequency tables
 * (CYP2C9 and VKORC1 allele-frequency supplements to the CPIC warfarin
 * guideline, Johnson et al., Clin Pharmacol Ther 2017;102:397–404), using the
 * European, East Asian and African American groups; "Other" is a blend.
 * Dose effect sizes are the IWPC 2009 coefficients (see iwpc-formula.ts).
 */
import {
  iwpcSqrtDose,
  type Cyp2c9Genotype,
  type RaceLevel,
  type Vkorc1Genotype,
} from './iwpc-formula.js';
import type { Prng } from '../shared/prng.js';

export const ANCESTRIES = ['White', 'Asian', 'Black', 'Other'] as const;
export type Ancestry = (typeof ANCESTRIES)[number];
export type Sex = 'F' | 'M';

/** The IWPC model has no "Other" level; it uses "missing or mixed race". */
export const ANCESTRY_TO_RACE: Record<Ancestry, RaceLevel> = {
  White: 'White',
  Asian: 'Asian',
  Black: 'Black',
  Other: 'unknown',
};

/** CYP2C9 *2 and *3 allele frequencies; *1 is the remainder. */
export const CYP2C9_ALLELE_FREQ: Record<Ancestry, { star2: number; star3: number }> = {
  White: { star2: 0.13, star3: 0.07 },
  Asian: { star2: 0.001, star3: 0.04 },
  Black: { star2: 0.02, star3: 0.01 },
  Other: { star2: 0.08, star3: 0.05 },
};

/** VKORC1 -1639G>A (rs9923231) A-allele frequency. */
export const VKORC1_A_FREQ: Record<Ancestry, number> = {
  White: 0.39,
  Asian: 0.91,
  Black: 0.11,
  Other: 0.45,
};

export const AMIODARONE_RATE = 0.06;
export const ENZYME_INDUCER_RATE = 0.02;
export const DEFAULT_NOISE_SD = 0.65;
export const DEFAULT_MISSING_GENOTYPE_RATE = 0.04;
/** Doses outside 5–140 mg/week are clinically implausible; clip on the sqrt scale. */
export const MIN_WEEKLY_DOSE = 5;
export const MAX_WEEKLY_DOSE = 140;

export interface SyntheticPatient {
  patientId: string;
  siteId: string;
  ageYears: number;
  sex: Sex;
  heightCm: number;
  weightKg: number;
  ancestry: Ancestry;
  /** True genotypes, used to generate the dose. */
  cyp2c9: Cyp2c9Genotype;
  vkorc1: Vkorc1Genotype;
  /** What the site's records show: null when the genotype was not tested. */
  cyp2c9Observed: Cyp2c9Genotype | null;
  vkorc1Observed: Vkorc1Genotype | null;
  amiodarone: boolean;
  enzymeInducer: boolean;
  weeklyDoseMg: number;
}

export interface GeneratePatientsOptions {
  n: number;
  ancestryMix: Record<Ancestry, number>;
  rng: Prng;
  siteId: string;
  noiseSd?: number;
  missingGenotypeRate?: number;
}

function clip(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** Two independent alleles (Hardy–Weinberg), written with the lower star first. */
export function drawCyp2c9(rng: Prng, ancestry: Ancestry): Cyp2c9Genotype {
  const { star2, star3 } = CYP2C9_ALLELE_FREQ[ancestry];
  const probs = [1 - star2 - star3, star2, star3];
  const a = rng.categorical(probs) + 1;
  const b = rng.categorical(probs) + 1;
  return `*${Math.min(a, b)}/*${Math.max(a, b)}` as Cyp2c9Genotype;
}

export function drawVkorc1(rng: Prng, ancestry: Ancestry): Vkorc1Genotype {
  const q = VKORC1_A_FREQ[ancestry];
  const aCount = (rng.bernoulli(q) ? 1 : 0) + (rng.bernoulli(q) ? 1 : 0);
  return aCount === 0 ? 'G/G' : aCount === 1 ? 'A/G' : 'A/A';
}

export function formatPatientId(siteId: string, index: number): string {
  return `${siteId}-${String(index + 1).padStart(4, '0')}`;
}

export function generatePatients(opts: GeneratePatientsOptions): SyntheticPatient[] {
  const { n, ancestryMix, rng, siteId } = opts;
  const noiseSd = opts.noiseSd ?? DEFAULT_NOISE_SD;
  const missingRate = opts.missingGenotypeRate ?? DEFAULT_MISSING_GENOTYPE_RATE;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!(noiseSd >= 0)) throw new RangeError(`noiseSd must be >= 0, got ${noiseSd}`);
  if (!(missingRate >= 0 && missingRate <= 1)) {
    throw new RangeError(`missingGenotypeRate must be in [0, 1], got ${missingRate}`);
  }
  const mixProbs = ANCESTRIES.map((a) => ancestryMix[a]);
  const sqrtLo = Math.sqrt(MIN_WEEKLY_DOSE);
  const sqrtHi = Math.sqrt(MAX_WEEKLY_DOSE);

  const patients: SyntheticPatient[] = [];
  for (let i = 0; i < n; i++) {
    const ancestry = ANCESTRIES[rng.categorical(mixProbs)] as Ancestry;
    const sex: Sex = rng.bernoulli(0.5) ? 'F' : 'M';
    const ageYears = Math.round(clip(rng.normal(62, 14), 20, 95));
    const heightMean = (sex === 'M' ? 176 : 163) - (ancestry === 'Asian' ? 7 : 0);
    const heightCm = round(clip(rng.normal(heightMean, 7), 140, 205), 1);
    // Weight via BMI keeps weight and height correlated as in real cohorts.
    const bmi = clip(rng.normal(27.5, 5), 16, 50);
    const weightKg = round(clip(bmi * (heightCm / 100) ** 2, 35, 200), 1);
    const cyp2c9 = drawCyp2c9(rng, ancestry);
    const vkorc1 = drawVkorc1(rng, ancestry);
    const amiodarone = rng.bernoulli(AMIODARONE_RATE);
    const enzymeInducer = rng.bernoulli(ENZYME_INDUCER_RATE);
    // Missingness only hides the genotype; the dose still follows the true one.
    const cyp2c9Observed = rng.bernoulli(missingRate) ? null : cyp2c9;
    const vkorc1Observed = rng.bernoulli(missingRate) ? null : vkorc1;

    const sqrtDose =
      iwpcSqrtDose({
        ageYears,
        heightCm,
        weightKg,
        vkorc1,
        cyp2c9,
        race: ANCESTRY_TO_RACE[ancestry],
        enzymeInducer,
        amiodarone,
      }) + rng.normal(0, noiseSd);
    const clipped = clip(sqrtDose, sqrtLo, sqrtHi);
    // Rounding can push the boundaries by < 0.005; keep them inside the range.
    const weeklyDoseMg = clip(round(clipped * clipped, 2), MIN_WEEKLY_DOSE, MAX_WEEKLY_DOSE);

    patients.push({
      patientId: formatPatientId(siteId, i),
      siteId,
      ageYears,
      sex,
      heightCm,
      weightKg,
      ancestry,
      cyp2c9,
      vkorc1,
      cyp2c9Observed,
      vkorc1Observed,
      amiodarone,
      enzymeInducer,
      weeklyDoseMg,
    });
  }
  return patients;
}
