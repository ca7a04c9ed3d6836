import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FedrxError } from '../../shared/errors.js';
import { loadStudyFile } from '../../shared/load-study.js';
import {
  decodeRegression,
  EncodeProblem,
  encodeFeatures,
  encodeQuery,
  encodeTarget,
  type RawRecord,
  type RawValue,
} from '../../shared/preprocess.js';
import { inputDim, isRegression, type RegressionTarget, type Study } from '../../shared/study.js';

const STUDY_PATH = fileURLToPath(new URL('../../datasets/studies/synthetic-warfarin.json', import.meta.url));
const study: Study = loadStudyFile(STUDY_PATH);
const WIDTH = 18; // 3 numeric + sex 1 + ancestry 3 + cyp2c9 6 + vkorc1 3 + amiodarone 1 + enzyme_inducer 1

function target(): RegressionTarget {
  if (!isRegression(study)) throw new Error('warfarin study is a regression');
  return study.target;
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
    amiodarone: '1', //       0|1 → [1]
    enzyme_inducer: 0, //     number 0 is level "0" → [0]
    weekly_dose_mg: 35,
    ...over,
  };
}

function encode(over: RawRecord = {}): number[] {
  const x = encodeFeatures(study, record(over), WIDTH);
  if (x instanceof EncodeProblem) throw new Error(`unexpected problem: ${x.describe()}`);
  expect(x.length).toBe(WIDTH);
  return Array.from(x);
}

function problem(over: RawRecord): EncodeProblem {
  const x = encodeFeatures(study, record(over), WIDTH);
  if (!(x instanceof EncodeProblem)) throw new Error('expected a problem');
  return x;
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

describe('encodeFeatures on the warfarin study', () => {
  it('input width is 18', () => {
    expect(inputDim(study)).toBe(WIDTH);
  });

  it('hand-computed input vector for one record', () => {
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

  it('the first level of every categorical is the reference (all zeros)', () => {
    const x = encode({ sex: 'F', ancestry: 'White', cyp2c9: '*1/*1', vkorc1_1639: 'G/G', amiodarone: '0', enzyme_inducer: '0' });
    expect(x.slice(3)).toEqual(new Array(15).fill(0));
    const last = encode({ ancestry: 'Other', cyp2c9: 'unknown', vkorc1_1639: 'unknown' });
    expect(last.slice(4, 16)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1]);
  });

  it('boundaries min and max are accepted', () => {
    expect(encode({ age_years: 18 })[0]).toBeCloseTo((18 - 62) / 14, 6);
    expect(encode({ age_years: 100 })[0]).toBeCloseTo((100 - 62) / 14, 6);
  });

  it("missing numeric with missing:'center' → 0 (null, undefined, blank, NaN)", () => {
    for (const v of [null, undefined, '', '   ', Number.NaN]) {
      const x = encode({ age_years: v, weight_kg: v });
      expect(x[0]).toBe(0);
      expect(x[2]).toBe(0);
      expect(x[1]).toBe(1.5);
    }
  });

  it('missing categorical → its missingLevel; without one → a missing problem', () => {
    const x = encode({ ancestry: null, cyp2c9: undefined, vkorc1_1639: ' ' });
    expect(x.slice(4, 7)).toEqual([0, 0, 1]); // Other
    expect(x.slice(7, 13)).toEqual([0, 0, 0, 0, 0, 1]); // unknown
    expect(x.slice(13, 16)).toEqual([0, 0, 1]); // unknown
    const p = problem({ sex: null });
    expect([p.column, p.kind]).toEqual(['sex', 'missing']);
    expect(p.describe()).toBe('column "sex": missing');
  });

  it('unknown level / out of range / not a number → EncodeProblem naming the column', () => {
    const cases: Array<[RawRecord, string, EncodeProblem['kind']]> = [
      [{ ancestry: 'Martian' }, 'ancestry', 'unknown-level'],
      [{ sex: 'm' }, 'sex', 'unknown-level'],
      [{ amiodarone: 2 }, 'amiodarone', 'unknown-level'],
      [{ age_years: 17.5 }, 'age_years', 'out-of-range'],
      [{ height_cm: 220.01 }, 'height_cm', 'out-of-range'],
      [{ weight_kg: 'heavy' }, 'weight_kg', 'not-a-number'],
      [{ weight_kg: Number.POSITIVE_INFINITY }, 'weight_kg', 'not-a-number'],
    ];
    for (const [over, column, kind] of cases) {
      const p = problem(over);
      expect([p.column, p.kind]).toEqual([column, kind]);
      expect(p.describe()).toBe(`column "${column}": ${kind.replace(/-/g, ' ')}`);
    }
  });

  it('reports the first problem in feature order', () => {
    const p = problem({ weight_kg: 'x', ancestry: 'Martian' });
    expect(p.column).toBe('weight_kg');
  });
});

describe('encodeQuery', () => {
  it('returns the same vector as encodeFeatures for a good record', () => {
    expect(Array.from(encodeQuery(study, record(), WIDTH))).toEqual(encode());
  });

  it('missing feature → E_MISSING_FEATURE naming it', () => {
    const e = thrown(() => encodeQuery(study, record({ sex: undefined }), WIDTH));
    expect(e.code).toBe('E_MISSING_FEATURE');
    expect(e.message).toContain('sex');
    expect(e.details).toEqual({ feature: 'sex', problem: 'missing' });
  });

  it('bad values → E_BAD_FEATURE, and no message ever contains the offending value', () => {
    const secrets: Array<[RawRecord, string]> = [
      [{ ancestry: 'Zq-secret-level' }, 'Zq-secret-level'],
      [{ age_years: 137.25 }, '137.25'],
      [{ height_cm: 'tall-secret' }, 'tall-secret'],
      [{ cyp2c9: '*9/*9' }, '*9/*9'],
    ];
    for (const [over, secret] of secrets) {
      const e = thrown(() => encodeQuery(study, record(over), WIDTH));
      expect(e.code).toBe('E_BAD_FEATURE');
      expect(e.details?.feature).toBe(Object.keys(over)[0]);
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e.toJSON())).not.toContain(secret);
      const p = problem(over);
      expect(p.describe()).not.toContain(secret);
      expect(JSON.stringify(p)).not.toContain(secret);
    }
  });
});

describe('target encoding', () => {
  it('35 mg/week → (√35 − 5.6) / 1.3 → back to 35', () => {
    const z = encodeTarget(study, 35);
    if (typeof z !== 'number') throw new Error(z.describe());
    expect(z).toBeCloseTo((Math.sqrt(35) - 5.6) / 1.3, 12);
    expect(z).toBeCloseTo(0.24313829469, 10);
    expect(decodeRegression(target(), z)).toBeCloseTo(35, 9);
    expect(encodeTarget(study, '35')).toBe(z);
  });

  it('decodeRegression of hand values (sqrt transform)', () => {
    expect(decodeRegression(target(), 0)).toBeCloseTo(5.6 ** 2, 12); // 31.36
    expect(decodeRegression(target(), 1)).toBeCloseTo(6.9 ** 2, 12); // 47.61
    expect(decodeRegression(target(), -10)).toBe(0); // negative root clamps to 0
  });

  it('missing / out of range / not a number → EncodeProblem on the target column', () => {
    const cases: Array<[RawValue, EncodeProblem['kind']]> = [
      [null, 'missing'],
      ['', 'missing'],
      [0.5, 'out-of-range'],
      [401, 'out-of-range'],
      ['lots', 'not-a-number'],
    ];
    for (const [v, kind] of cases) {
      const p = encodeTarget(study, v);
      expect(p).toBeInstanceOf(EncodeProblem);
      if (p instanceof EncodeProblem) expect([p.column, p.kind]).toEqual(['weekly_dose_mg', kind]);
    }
  });
});

describe('encodeFeatures strictness', () => {
  it('refuses a width that does not match the study', () => {
    expect(() => encodeFeatures(study, record(), WIDTH - 1)).toThrow(/encodes 18 inputs|encodes \d+ inputs, caller expected/);
    expect(() => encodeFeatures(study, record(), WIDTH + 2)).toThrow(/caller expected/);
  });

  it.each(['0x1F', 'Infinity', 'true', '1,5', '12abc'])('reads %j in a numeric column as not-a-number', (v) => {
    const x = encodeFeatures(study, record({ height_cm: v }), WIDTH);
    expect(x).toBeInstanceOf(EncodeProblem);
    expect((x as EncodeProblem).kind).toBe('not-a-number');
  });

  it('accepts plain decimals with exponents and signs', () => {
    for (const v of ['1.7e2', '+170', '170.', ' 170 ']) {
      const x = encodeFeatures(study, record({ height_cm: v }), WIDTH);
      expect(x).not.toBeInstanceOf(EncodeProblem);
      expect((x as Float32Array)[1]).toBeCloseTo((170 - 168) / 10, 6);
    }
  });
});
