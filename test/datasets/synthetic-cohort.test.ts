import { describe, expect, it } from 'vitest';
import { iwpcSqrtDose } from '../../datasets/iwpc-formula.js';
import { Prng } from '../../shared/prng.js';
import {
  ANCESTRIES,
  ANCESTRY_TO_RACE,
  CYP2C9_ALLELE_FREQ,
  generatePatients,
  VKORC1_A_FREQ,
  type Ancestry,
  type SyntheticPatient,
} from '../../datasets/synthetic-cohort.js';

const N = 20_000;

function onlyAncestry(a: Ancestry): Record<Ancestry, number> {
  return { White: 0, Asian: 0, Black: 0, Other: 0, [a]: 1 };
}

function alleleFreqs(ps: SyntheticPatient[]): { star2: number; star3: number; vkA: number } {
  let star2 = 0;
  let star3 = 0;
  let vkA = 0;
  for (const p of ps) {
    star2 += p.cyp2c9.split('/').filter((x) => x === '*2').length;
    star3 += p.cyp2c9.split('/').filter((x) => x === '*3').length;
    vkA += p.vkorc1.split('/').filter((x) => x === 'A').length;
  }
  const alleles = 2 * ps.length;
  return { star2: star2 / alleles, star3: star3 / alleles, vkA: vkA / alleles };
}

describe('generatePatients', () => {
  it.each(ANCESTRIES)('reproduces %s allele frequencies over 20k patients', (ancestry) => {
    const ps = generatePatients({ n: N, ancestryMix: onlyAncestry(ancestry), rng: new Prng(ancestry), siteId: 's' });
    expect(ps.every((p) => p.ancestry === ancestry)).toBe(true);
    const f = alleleFreqs(ps);
    // Binomial SE over 40k alleles is <= 0.0025, so 0.01 is a 4-SE band.
    expect(Math.abs(f.star2 - CYP2C9_ALLELE_FREQ[ancestry].star2)).toBeLessThan(0.01);
    expect(Math.abs(f.star3 - CYP2C9_ALLELE_FREQ[ancestry].star3)).toBeLessThan(0.01);
    expect(Math.abs(f.vkA - VKORC1_A_FREQ[ancestry])).toBeLessThan(0.01);
  });

  it('draws VKORC1 genotypes under Hardy–Weinberg', () => {
    const ps = generatePatients({ n: N, ancestryMix: onlyAncestry('White'), rng: new Prng('hw'), siteId: 's' });
    const q = VKORC1_A_FREQ.White;
    const aa = ps.filter((p) => p.vkorc1 === 'A/A').length / N;
    const ag = ps.filter((p) => p.vkorc1 === 'A/G').length / N;
    expect(Math.abs(aa - q * q)).toBeLessThan(0.015);
    expect(Math.abs(ag - 2 * q * (1 - q))).toBeLessThan(0.015);
  });

  const mix = { White: 0.6, Asian: 0.2, Black: 0.12, Other: 0.08 };
  const cohort = generatePatients({ n: N, ancestryMix: mix, rng: new Prng('cohort'), siteId: 'site-1' });

  it('follows the ancestry mix and keeps covariates and doses in range', () => {
    for (const a of ANCESTRIES) {
      expect(Math.abs(cohort.filter((p) => p.ancestry === a).length / N - mix[a])).toBeLessThan(0.015);
    }
    for (const p of cohort) {
      expect(p.weeklyDoseMg).toBeGreaterThanOrEqual(5);
      expect(p.weeklyDoseMg).toBeLessThanOrEqual(140);
      expect(Number.isInteger(p.ageYears) && p.ageYears >= 20 && p.ageYears <= 95).toBe(true);
      expect(p.heightCm >= 140 && p.heightCm <= 205).toBe(true);
      expect(p.weightKg >= 35 && p.weightKg <= 200).toBe(true);
    }
    expect(cohort[0]?.patientId).toBe('site-1-0001');
    expect(cohort[122]?.patientId).toBe('site-1-0123');
    const meanAge = cohort.reduce((s, p) => s + p.ageYears, 0) / N;
    expect(Math.abs(meanAge - 62)).toBeLessThan(0.5);
  });

  it('generates doses from the true genotype with sd≈0.65 noise on the sqrt scale', () => {
    const resid = cohort.map(
      (p) => Math.sqrt(p.weeklyDoseMg) - iwpcSqrtDose({ ...p, race: ANCESTRY_TO_RACE[p.ancestry] }),
    );
    const m = resid.reduce((s, x) => s + x, 0) / N;
    const sd = Math.sqrt(resid.reduce((s, x) => s + (x - m) ** 2, 0) / (N - 1));
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(sd - 0.65)).toBeLessThan(0.03);
  });

  it('hides about 4% of each genotype without changing the true one', () => {
    const missC = cohort.filter((p) => p.cyp2c9Observed === null).length / N;
    const missV = cohort.filter((p) => p.vkorc1Observed === null).length / N;
    expect(Math.abs(missC - 0.04)).toBeLessThan(0.01);
    expect(Math.abs(missV - 0.04)).toBeLessThan(0.01);
    expect(cohort.every((p) => p.cyp2c9Observed === null || p.cyp2c9Observed === p.cyp2c9)).toBe(true);
    expect(cohort.every((p) => p.vkorc1Observed === null || p.vkorc1Observed === p.vkorc1)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const a = generatePatients({ n: 200, ancestryMix: mix, rng: new Prng('d'), siteId: 'x' });
    const b = generatePatients({ n: 200, ancestryMix: mix, rng: new Prng('d'), siteId: 'x' });
    const c = generatePatients({ n: 200, ancestryMix: mix, rng: new Prng('e'), siteId: 'x' });
    expect(b).toEqual(a);
    expect(c.map((p) => p.weeklyDoseMg)).not.toEqual(a.map((p) => p.weeklyDoseMg));
  });

  it('with noiseSd 0 and no missingness the dose equals the formula', () => {
    const ps = generatePatients({
      n: 500,
      ancestryMix: mix,
      rng: new Prng('exact'),
      siteId: 'x',
      noiseSd: 0,
      missingGenotypeRate: 0,
    });
    expect(ps.every((p) => p.cyp2c9Observed !== null && p.vkorc1Observed !== null)).toBe(true);
    for (const p of ps) {
      const s = iwpcSqrtDose({ ...p, race: ANCESTRY_TO_RACE[p.ancestry] });
      const expected = Math.round(Math.min(140, Math.max(5, s * s)) * 100) / 100;
      expect(p.weeklyDoseMg).toBeCloseTo(expected, 2);
    }
  });
});
