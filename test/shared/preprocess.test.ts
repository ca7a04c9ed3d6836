import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FedrxError } from '../../shared/errors.js';
import { EncodeProblem, extractRow, type ExtractedRow } from '../../shared/extract.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import { loadStudyFile } from '../../shared/load-study.js';
import { decodeRegression, encodeInputs, encodeQuery, encodeTarget, type RawRecord } from '../../shared/preprocess.js';
import { inputDim, isRegression, type RegressionTarget, type Study } from '../../shared/study.js';

const STUDY_PATH = fileURLToPath(new URL('../../datasets/studies/synthetic-warfarin.json', import.meta.url));
const warfarin: Study = loadStudyFile(STUDY_PATH);
const WIDTH = 18; // 3 numeric + sex 1 + ancestry 3 + cyp2c9 6 + vkorc1 3 + amiodarone 1 + enzyme_inducer 1

/** A run's preprocessing, by hand. */
const PREP: Preprocessing = {
  rows: 1000,
  numeric: { age_years: { mean: 62, sd: 14 }, height_cm: { mean: 168, sd: 10 }, weight_kg: { mean: 78, sd: 18 } },
  target: { mean: 5.6, sd: 1.3 },
};

function doseTarget(): RegressionTarget {
  if (!isRegression(warfarin)) throw new Error('warfarin study is a regression');
  return warfarin.target;
}

function record(over: RawRecord = {}): RawRecord {
  return {
    age_years: 76, //         (76 - 62) / 14 = 1
    height_cm: '183', //      (183 - 168) / 10 = 1.5  (CSV strings are numbers too)
    weight_kg: 69, //         (69 - 78) / 18 = -0.5
    sex: 'M', //              levels F|M → [1]
    ancestry: ' Black ', //   White|Asian|Black|Other → [0,1,0] (trimmed)
    cyp2c9: '*1/*3', //       *1/*1|*1/*2|*1/*3|… → [0,1,0,0,0,0]
    vkorc1_1639: 'A/A', //    G/G|A/G|A/A|unknown → [0,1,0]
    amiodarone: '1', //       binary → [1]
    enzyme_inducer: 0, //     binary, number 0 → [0]
    weekly_dose_mg: 35,
    ...over,
  };
}

/** The model inputs of a warfarin record under PREP. */
function encode(over: RawRecord = {}): number[] {
  const row = extractRow(warfarin, record(over));
  if (row instanceof EncodeProblem) throw new Error(`unexpected problem: ${row.describe()}`);
  const x = new Float32Array(WIDTH);
  encodeInputs(warfarin, PREP, row, x);
  return Array.from(x);
}

function thrown(f: () => unknown): FedrxError {
  try {
    f();
  } catch (e) {
    if (e instanceof FedrxError) return e;
    throw e;
  }
  throw new Error('expected a FedrxError');
}

describe('encodeInputs', () => {
  /** One feature of each kind: numeric, imputed numeric, categorical, genotype, binary. */
  const study: Study = {
    name: 'kinds',
    task: 'regression',
    features: [
      { kind: 'numeric', name: 'age', min: 18, max: 100 },
      { kind: 'numeric', name: 'weight', min: 30, max: 250, missing: 'mean' },
      { kind: 'categorical', name: 'race', levels: ['White', 'Asian', 'Black', 'Other'] },
      { kind: 'genotype', name: 'vk', gene: 'VKORC1', encoding: 'genotype', levels: ['G/G', 'A/G', 'unknown'], unknownLevel: 'unknown' },
      { kind: 'binary', name: 'amio' },
    ],
    target: { name: 'dose', transform: 'sqrt', min: 1, max: 400 },
    model: { type: 'linear' },
    holdout: { fraction: 0.2, seed: 1 },
  };
  const prep: Preprocessing = { rows: 10, numeric: { age: { mean: 60, sd: 10 }, weight: { mean: 80, sd: 20 } }, target: { mean: 6, sd: 1 } };
  const row = (values: number[]): ExtractedRow => ({ values: Float64Array.from(values), target: 6 });

  it('by hand: standardised numeric, NaN → 0, dummy coding with the first level as reference, binary 0/1', () => {
    expect(inputDim(study)).toBe(8);
    const x = new Float32Array(8);
    encodeInputs(study, prep, row([75, Number.NaN, 2, 0, 1]), x);
    // prettier-ignore
    expect([...x]).toEqual([
      1.5,      // (75 − 60) / 10
      0,        // missing weight: the federated mean, 0 once standardised
      0, 1, 0,  // race = Black (White is the reference)
      0, 0,     // vk = G/G, the reference
      1,        // amio
    ]);
    encodeInputs(study, prep, row([50, 90, 0, 2, 0]), x);
    expect([...x]).toEqual([-1, 0.5, 0, 0, 0, 0, 1, 0]);
    encodeInputs(study, prep, row([60, 80, 3, 1, 0]), x);
    expect([...x]).toEqual([0, 0, 0, 0, 1, 1, 0, 0]);
  });

  it('writes at an offset and touches nothing else', () => {
    const out = new Float32Array(20).fill(9);
    encodeInputs(study, prep, row([75, Number.NaN, 1, 1, 0]), out, 6);
    expect([...out]).toEqual([9, 9, 9, 9, 9, 9, 1.5, 0, 1, 0, 0, 1, 0, 0, 9, 9, 9, 9, 9, 9]);
  });

  it('refuses a preprocessing that lacks a numeric feature', () => {
    const e = thrown(() => encodeInputs(study, { rows: 10, numeric: { age: { mean: 60, sd: 10 } } }, row([75, 80, 0, 0, 0]), new Float32Array(8)));
    expect(e.code).toBe('E_INTERNAL');
    expect(e.message).toContain('weight');
  });

  it('the warfarin record by hand (18 inputs)', () => {
    expect(inputDim(warfarin)).toBe(WIDTH);
    // prettier-ignore
    expect(encode()).toEqual([
      1, 1.5, -0.5,     // age, height, weight standardised
      1,                // sex = M
      0, 1, 0,          // ancestry = Black
      0, 1, 0, 0, 0, 0, // cyp2c9 = *1/*3
      0, 1, 0,          // vkorc1 = A/A
      1,                // amiodarone = 1
      0,                // enzyme_inducer = 0
    ]);
  });

  it('warfarin: references all zeros, aliases and unknown calls, missing numerics at the mean', () => {
    const ref = encode({ sex: 'F', ancestry: 'White', cyp2c9: '*1/*1', vkorc1_1639: 'G/G', amiodarone: '0', enzyme_inducer: '0' });
    expect(ref.slice(3)).toEqual(new Array(15).fill(0));
    const last = encode({ ancestry: '', cyp2c9: '*1/*5', vkorc1_1639: '' });
    expect(last.slice(4, 16)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1]); // Other, unknown, unknown
    expect(encode({ vkorc1_1639: 'G/A' }).slice(13, 16)).toEqual([1, 0, 0]); // alias of A/G
    const missing = encode({ age_years: '', weight_kg: null });
    expect([missing[0], missing[1], missing[2]]).toEqual([0, 1.5, 0]);
  });
});

describe('target encoding', () => {
  it('35 mg/week → (√35 − 5.6) / 1.3 → back to 35', () => {
    const row = extractRow(warfarin, record({ weekly_dose_mg: '35' }));
    if (row instanceof EncodeProblem) throw new Error(row.describe());
    expect(row.target).toBe(Math.sqrt(35));
    const z = encodeTarget(PREP, row);
    expect(z).toBeCloseTo((Math.sqrt(35) - 5.6) / 1.3, 12);
    expect(z).toBeCloseTo(0.24313829469, 10);
    expect(decodeRegression(doseTarget(), PREP, z)).toBeCloseTo(35, 9);
  });

  it('decodeRegression of hand values (sqrt transform)', () => {
    expect(decodeRegression(doseTarget(), PREP, 0)).toBeCloseTo(5.6 ** 2, 12); // 31.36
    expect(decodeRegression(doseTarget(), PREP, 1)).toBeCloseTo(6.9 ** 2, 12); // 47.61
    expect(decodeRegression(doseTarget(), PREP, -10)).toBe(0); // a negative root clamps to 0
    // log and identity transforms, and no target standardisation at all.
    const log: RegressionTarget = { name: 'y', transform: 'log', min: 1, max: 100 };
    expect(decodeRegression(log, { rows: 1, numeric: {}, target: { mean: 1, sd: 2 } }, 0.5)).toBeCloseTo(Math.E ** 2, 12);
    const identity: RegressionTarget = { name: 'y', transform: 'identity', min: -1, max: 1 };
    expect(decodeRegression(identity, { rows: 1, numeric: {} }, 0.25)).toBe(0.25);
  });

  it('classification: the class index unchanged', () => {
    expect(encodeTarget({ rows: 3, numeric: {} }, { values: new Float64Array(0), target: 2 })).toBe(2);
  });
});

describe('encodeQuery', () => {
  it('gives the same inputs as a site encoding the same record, and needs no target', () => {
    expect(Array.from(encodeQuery(warfarin, PREP, record()))).toEqual(encode());
    const { weekly_dose_mg: _dose, ...query } = record();
    expect(Array.from(encodeQuery(warfarin, PREP, query))).toEqual(encode());
    expect(encodeQuery(warfarin, PREP, query).length).toBe(WIDTH);
  });

  it('missing feature → E_MISSING_FEATURE naming it', () => {
    const e = thrown(() => encodeQuery(warfarin, PREP, record({ sex: undefined })));
    expect(e.code).toBe('E_MISSING_FEATURE');
    expect(e.message).toContain('sex');
    expect(e.details).toEqual({ feature: 'sex', problem: 'missing' });
  });

  it('bad values → E_BAD_FEATURE with { feature, problem }, and never the offending value', () => {
    const secrets: Array<[RawRecord, string, string]> = [
      [{ ancestry: 'Zq-secret-level' }, 'Zq-secret-level', 'unknown-level'],
      [{ sex: 'secret-sex' }, 'secret-sex', 'unknown-level'],
      [{ age_years: 137.25 }, '137.25', 'out-of-range'],
      [{ height_cm: 'tall-secret' }, 'tall-secret', 'not-a-number'],
      [{ weight_kg: '0x1F' }, '0x1F', 'not-a-number'],
      [{ amiodarone: 'secret-yes' }, 'secret-yes', 'unknown-level'],
    ];
    for (const [over, secret, problem] of secrets) {
      const e = thrown(() => encodeQuery(warfarin, PREP, record(over)));
      expect(e.code).toBe('E_BAD_FEATURE');
      expect(e.details).toEqual({ feature: Object.keys(over)[0], problem });
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e.toJSON())).not.toContain(secret);
    }
  });
});
