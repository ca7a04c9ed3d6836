import { describe, expect, it } from 'vitest';
import {
  cellsExtractor,
  EncodeProblem,
  extractFeature,
  extractRow,
  extractTarget,
  forwardTransform,
  inverseTransform,
  isMissing,
  parseDecimal,
  type RawRecord,
} from '../../shared/extract.js';
import type {
  BinaryFeature,
  CategoricalFeature,
  ClassificationTarget,
  Feature,
  GenotypeFeature,
  NumericFeature,
  RegressionTarget,
  Study,
} from '../../shared/study.js';

/** The feature's value, or the test fails with the problem. */
function value(f: Feature, record: RawRecord): number {
  const v = extractFeature(f, record);
  if (v instanceof EncodeProblem) throw new Error(`unexpected problem: ${v.describe()}`);
  return v;
}

/** [column, kind] of the problem, or the test fails. */
function problem(f: Feature, record: RawRecord): [string, EncodeProblem['kind']] {
  const v = extractFeature(f, record);
  if (!(v instanceof EncodeProblem)) throw new Error(`expected a problem, got ${v}`);
  return [v.column, v.kind];
}

describe('isMissing', () => {
  it('null, undefined, blank and NaN are missing; 0 and "0" are not', () => {
    for (const v of [null, undefined, '', '   ', Number.NaN]) expect(isMissing(v)).toBe(true);
    for (const v of [0, '0', false, 'NA']) expect(isMissing(v)).toBe(false);
  });
});

describe('numeric features', () => {
  /** IWPC-style age bands in decades, read from a column named differently from the feature. */
  const age: NumericFeature = {
    kind: 'numeric',
    name: 'age_decades',
    column: 'Age',
    min: 1,
    max: 9,
    map: { '10 - 19': 1, '20 - 29': 2, '30 - 39': 3, '40 - 49': 4, '50 - 59': 5, '60 - 69': 6, '70 - 79': 7, '80 - 89': 8, '90+': 9 },
    missing: 'mean',
  };
  const height: NumericFeature = { kind: 'numeric', name: 'height_cm', min: 0, max: 250 };

  it('maps coded bands to numbers, trimmed; plain numbers in range still read', () => {
    expect(value(age, { Age: '60 - 69' })).toBe(6);
    expect(value(age, { Age: ' 70 - 79 ' })).toBe(7);
    expect(value(age, { Age: '90+' })).toBe(9);
    expect(value(age, { Age: '3' })).toBe(3);
    expect(value(age, { Age: 4 })).toBe(4);
    // Reads the column, not the feature name.
    expect(problem(age, { age_decades: '60 - 69', Age: '100 - 109' })).toEqual(['Age', 'not-a-number']);
  });

  it("missing with missing: 'mean' → a NaN slot (imputed later); without it → a missing problem", () => {
    for (const v of [null, undefined, '', '  ', Number.NaN]) {
      expect(Number.isNaN(value(age, { Age: v }))).toBe(true);
      expect(problem(height, { height_cm: v })).toEqual(['height_cm', 'missing']);
    }
    expect(Number.isNaN(value(age, {}))).toBe(true); // column absent from the record
    expect(problem({ ...height, missing: 'drop' }, {})).toEqual(['height_cm', 'missing']);
  });

  it('min and max are inside; outside is refused, never clipped', () => {
    expect(value(height, { height_cm: '0' })).toBe(0);
    expect(value(height, { height_cm: 250 })).toBe(250);
    expect(problem(height, { height_cm: '250.01' })).toEqual(['height_cm', 'out-of-range']);
    expect(problem(height, { height_cm: -1 })).toEqual(['height_cm', 'out-of-range']);
    expect(problem(age, { Age: '10' })).toEqual(['Age', 'out-of-range']);
  });

  it('reads only plain decimals: hex, booleans, Infinity, commas and trailing text are not numbers', () => {
    // 0x1F would be 31 (in range) if Number() read it.
    for (const v of ['0x1F', 'Infinity', '-Infinity', 'true', '1,5', '12abc', 'tall', '1e', '.']) {
      expect(problem(height, { height_cm: v })).toEqual(['height_cm', 'not-a-number']);
    }
    for (const v of [Number.POSITIVE_INFINITY, true]) expect(problem(height, { height_cm: v })).toEqual(['height_cm', 'not-a-number']);
    for (const [v, x] of [['1.7e2', 170], ['+170', 170], ['170.', 170], [' 170 ', 170], ['.5', 0.5], ['1E1', 10]] as const) {
      expect(value(height, { height_cm: v })).toBe(x);
    }
  });

  it('a cell that names an Object.prototype key is no map entry', () => {
    expect(problem(age, { Age: 'constructor' })).toEqual(['Age', 'not-a-number']);
    expect(problem(age, { Age: '__proto__' })).toEqual(['Age', 'not-a-number']);
  });
});

describe('categorical features', () => {
  const race: CategoricalFeature = {
    kind: 'categorical',
    name: 'race',
    column: 'Race (OMB)',
    levels: ['White', 'Asian', 'Black', 'Other'],
    aliases: { 'Black or African American': 'Black', Caucasian: 'White' },
    missingLevel: 'Other',
    otherLevel: 'Other',
  };
  const strict: CategoricalFeature = { kind: 'categorical', name: 'sex', levels: ['F', 'M'] };

  it('levels by index, trimmed, through aliases', () => {
    expect(value(race, { 'Race (OMB)': 'White' })).toBe(0);
    expect(value(race, { 'Race (OMB)': ' Asian ' })).toBe(1);
    expect(value(race, { 'Race (OMB)': 'Black or African American' })).toBe(2);
    expect(value(race, { 'Race (OMB)': 'Caucasian' })).toBe(0);
    expect(value(strict, { sex: 'M' })).toBe(1);
  });

  it('missing → missingLevel; unlisted → otherLevel (aliases and levels are case-sensitive)', () => {
    expect(value(race, { 'Race (OMB)': '' })).toBe(3);
    expect(value(race, {})).toBe(3);
    expect(value(race, { 'Race (OMB)': 'Martian' })).toBe(3);
    expect(value(race, { 'Race (OMB)': 'caucasian' })).toBe(3);
    expect(value(race, { 'Race (OMB)': 'constructor' })).toBe(3);
  });

  it('without missingLevel or otherLevel the row is refused, naming the column', () => {
    const noFallback: CategoricalFeature = { ...race, missingLevel: undefined, otherLevel: undefined };
    expect(problem(noFallback, { 'Race (OMB)': null })).toEqual(['Race (OMB)', 'missing']);
    expect(problem(noFallback, { 'Race (OMB)': 'Martian' })).toEqual(['Race (OMB)', 'unknown-level']);
    expect(problem(strict, { sex: 'm' })).toEqual(['sex', 'unknown-level']);
    expect(problem(strict, { sex: ' ' })).toEqual(['sex', 'missing']);
    // Only one of the two: the other case is still refused.
    expect(value({ ...noFallback, missingLevel: 'Other' }, { 'Race (OMB)': '' })).toBe(3);
    expect(problem({ ...noFallback, missingLevel: 'Other' }, { 'Race (OMB)': 'Martian' })).toEqual(['Race (OMB)', 'unknown-level']);
    expect(value({ ...noFallback, otherLevel: 'Other' }, { 'Race (OMB)': 'Martian' })).toBe(3);
    expect(problem({ ...noFallback, otherLevel: 'Other' }, { 'Race (OMB)': '' })).toEqual(['Race (OMB)', 'missing']);
  });
});

describe('genotype features', () => {
  const cyp2c9: GenotypeFeature = {
    kind: 'genotype',
    name: 'cyp2c9',
    gene: 'CYP2C9',
    encoding: 'diplotype',
    levels: ['*1/*1', '*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3', 'unknown'],
    aliases: { '*3/*1': '*1/*3' },
    unknownLevel: 'unknown',
  };
  const vkorc1: GenotypeFeature = {
    kind: 'genotype',
    name: 'vkorc1',
    column: 'VKORC1 -1639',
    gene: 'VKORC1',
    variant: '-1639G>A (rs9923231)',
    encoding: 'genotype',
    levels: ['G/G', 'A/G', 'A/A', 'unknown'],
    unknownLevel: 'unknown',
    imputeFrom: [{ column: 'rs9934438', map: { 'C/C': 'G/G', 'C/T': 'A/G', 'T/T': 'A/A' }, onlyWhen: { column: 'race', values: ['White', 'Asian'] } }],
  };

  it('listed calls by index, aliases applied', () => {
    expect(value(cyp2c9, { cyp2c9: '*1/*1' })).toBe(0);
    expect(value(cyp2c9, { cyp2c9: '*1/*3' })).toBe(2);
    expect(value(cyp2c9, { cyp2c9: '*3/*1' })).toBe(2);
  });

  it('unknownLevel for a missing call AND for a call the study does not list', () => {
    expect(value(cyp2c9, { cyp2c9: '' })).toBe(6);
    expect(value(cyp2c9, {})).toBe(6);
    expect(value(cyp2c9, { cyp2c9: '*1/*5' })).toBe(6);
    expect(value(cyp2c9, { cyp2c9: 'toString' })).toBe(6);
  });

  it('a missing call is imputed from a linked variant, only where the rule applies', () => {
    expect(value(vkorc1, { 'VKORC1 -1639': '', rs9934438: 'T/T', race: 'White' })).toBe(2);
    expect(value(vkorc1, { 'VKORC1 -1639': '', rs9934438: 'C/T', race: 'Asian' })).toBe(1);
    expect(value(vkorc1, { 'VKORC1 -1639': '', rs9934438: 'T/T', race: 'Black' })).toBe(3); // linkage differs
    expect(value(vkorc1, { 'VKORC1 -1639': '', rs9934438: 'T/T', race: '' })).toBe(3);
    expect(value(vkorc1, { 'VKORC1 -1639': '', rs9934438: '', race: 'White' })).toBe(3);
    expect(value(vkorc1, { 'VKORC1 -1639': '', rs9934438: 'constructor', race: 'White' })).toBe(3);
    // A typed call wins over the linked variant.
    expect(value(vkorc1, { 'VKORC1 -1639': 'G/G', rs9934438: 'T/T', race: 'White' })).toBe(0);
  });
});

describe('binary features', () => {
  const inducer: BinaryFeature = {
    kind: 'binary',
    name: 'enzyme_inducer',
    columns: ['carbamazepine', 'phenytoin', 'rifampin'],
    trueValues: ['1', '1.0'],
    falseValues: ['0'],
    missing: 'false',
  };
  const rec = (c: string, p: string, r: string): RawRecord => ({ carbamazepine: c, phenytoin: p, rifampin: r });

  it('1 when any of its columns holds a true value', () => {
    expect(value(inducer, rec('0', '0', '0'))).toBe(0);
    expect(value(inducer, rec('0', '1', '0'))).toBe(1);
    expect(value(inducer, rec('0', '0', '1.0'))).toBe(1);
    expect(value(inducer, rec('1.00', '', ''))).toBe(1); // numerically 1
    expect(value(inducer, rec('', '0', ''))).toBe(0);
    expect(value(inducer, { carbamazepine: 1, phenytoin: 0, rifampin: 0 })).toBe(1);
  });

  it("every column empty: 0 with missing 'false' (or by default), a missing problem with 'drop'", () => {
    expect(value(inducer, rec('', '', ''))).toBe(0);
    expect(value({ ...inducer, missing: undefined }, {})).toBe(0);
    expect(problem({ ...inducer, missing: 'drop' }, rec('', ' ', ''))).toEqual(['carbamazepine|phenytoin|rifampin', 'missing']);
    expect(value({ ...inducer, missing: 'drop' }, rec('', '0', ''))).toBe(0);
  });

  it('a value neither true nor false is refused, naming its column', () => {
    expect(problem(inducer, rec('0', 'yes', '0'))).toEqual(['phenytoin', 'unknown-level']);
    expect(problem(inducer, rec('0', '0', '2'))).toEqual(['rifampin', 'unknown-level']);
  });

  it('defaults: reads the column named like the feature, "1" true and "0" false', () => {
    const amiodarone: BinaryFeature = { kind: 'binary', name: 'amiodarone' };
    expect(value(amiodarone, { amiodarone: '1' })).toBe(1);
    expect(value(amiodarone, { amiodarone: 0 })).toBe(0);
    expect(value(amiodarone, { amiodarone: '0.0' })).toBe(0);
    expect(problem(amiodarone, { amiodarone: 'true' })).toEqual(['amiodarone', 'unknown-level']);
    expect(problem(amiodarone, { amiodarone: '2' })).toEqual(['amiodarone', 'unknown-level']);
  });
});

describe('targets', () => {
  const base = {
    name: 'dose',
    task: 'regression' as const,
    features: [{ kind: 'numeric' as const, name: 'x', min: 0, max: 1 }],
    model: { type: 'linear' as const },
    holdout: { fraction: 0.2, seed: 1 },
  };
  const regression = (transform: RegressionTarget['transform']): Study => ({
    ...base,
    target: { name: 'weekly_dose_mg', column: 'Dose (mg/wk)', transform, min: 1, max: 400 },
  });
  const target = (s: Study, v: RawRecord[string]): number => {
    const t = extractTarget(s, { 'Dose (mg/wk)': v, label: v });
    if (t instanceof EncodeProblem) throw new Error(t.describe());
    return t;
  };
  const targetProblem = (s: Study, v: RawRecord[string]): [string, EncodeProblem['kind']] => {
    const t = extractTarget(s, { 'Dose (mg/wk)': v, label: v });
    if (!(t instanceof EncodeProblem)) throw new Error(`expected a problem, got ${t}`);
    return [t.column, t.kind];
  };

  it('sqrt, log and identity transforms, from the target column', () => {
    expect(target(regression('sqrt'), '36')).toBe(6);
    expect(target(regression('sqrt'), 35)).toBe(Math.sqrt(35));
    expect(target(regression('log'), '20')).toBe(Math.log(20));
    expect(target(regression('identity'), ' 35.5 ')).toBe(35.5);
  });

  it('the transform inverts: back to mg/week', () => {
    for (const transform of ['sqrt', 'log', 'identity'] as const) {
      const t = regression(transform).target as RegressionTarget;
      for (const y of [1, 35, 399.5]) expect(inverseTransform(t, forwardTransform(t, y))).toBeCloseTo(y, 10);
    }
    expect(inverseTransform(regression('sqrt').target as RegressionTarget, -2)).toBe(0); // a negative root clamps
  });

  it('range applies to the raw value, before the transform', () => {
    expect(target(regression('sqrt'), 1)).toBe(1);
    expect(target(regression('sqrt'), 400)).toBe(20);
    expect(targetProblem(regression('sqrt'), 0.5)).toEqual(['Dose (mg/wk)', 'out-of-range']);
    expect(targetProblem(regression('log'), '401')).toEqual(['Dose (mg/wk)', 'out-of-range']);
    expect(targetProblem(regression('identity'), 'lots')).toEqual(['Dose (mg/wk)', 'not-a-number']);
    expect(targetProblem(regression('identity'), '0x10')).toEqual(['Dose (mg/wk)', 'not-a-number']);
    expect(targetProblem(regression('sqrt'), '')).toEqual(['Dose (mg/wk)', 'missing']);
  });

  it('classification: class index, through aliases', () => {
    const classes: ClassificationTarget = { name: 'label', classes: ['low', 'high'], aliases: { '0': 'low', '1': 'high', High: 'high' } };
    const s: Study = { ...base, task: 'classification', target: classes };
    expect(target(s, 'low')).toBe(0);
    expect(target(s, 'high')).toBe(1);
    expect(target(s, '1')).toBe(1);
    expect(target(s, 0)).toBe(0);
    expect(target(s, ' High ')).toBe(1);
    expect(targetProblem(s, 'medium')).toEqual(['label', 'unknown-level']);
    expect(targetProblem(s, 'constructor')).toEqual(['label', 'unknown-level']);
    expect(targetProblem(s, null)).toEqual(['label', 'missing']);
  });
});

describe('extractRow', () => {
  const study: Study = {
    name: 'row',
    task: 'regression',
    features: [
      { kind: 'numeric', name: 'age', min: 18, max: 100, missing: 'mean' },
      { kind: 'categorical', name: 'sex', levels: ['F', 'M'] },
      { kind: 'genotype', name: 'vk', gene: 'VKORC1', encoding: 'genotype', levels: ['G/G', 'A/G', 'A/A', 'unknown'], unknownLevel: 'unknown' },
      { kind: 'binary', name: 'amio' },
    ],
    target: { name: 'dose', transform: 'sqrt', min: 1, max: 400 },
    model: { type: 'linear' },
    holdout: { fraction: 0.2, seed: 1 },
  };

  it('one raw slot per feature, and the transformed target', () => {
    const row = extractRow(study, { age: '70', sex: 'M', vk: 'A/A', amio: '1', dose: '49' });
    if (row instanceof EncodeProblem) throw new Error(row.describe());
    expect([...row.values]).toEqual([70, 1, 2, 1]);
    expect(row.target).toBe(7);
    const imputed = extractRow(study, { age: '', sex: 'F', vk: '', amio: '', dose: 4 });
    if (imputed instanceof EncodeProblem) throw new Error(imputed.describe());
    expect([...imputed.values]).toEqual([Number.NaN, 0, 3, 0]);
  });

  it('the first problem in feature order, then the target; a query needs no target', () => {
    const p = extractRow(study, { age: '7', sex: 'X', vk: 'A/A', amio: '1', dose: '' });
    expect(p).toBeInstanceOf(EncodeProblem);
    expect([(p as EncodeProblem).column, (p as EncodeProblem).kind]).toEqual(['age', 'out-of-range']);
    const t = extractRow(study, { age: '70', sex: 'M', vk: 'A/A', amio: '1', dose: '' });
    expect([(t as EncodeProblem).column, (t as EncodeProblem).kind]).toEqual(['dose', 'missing']);
    const q = extractRow(study, { age: '70', sex: 'M', vk: 'A/A', amio: '1' }, false);
    if (q instanceof EncodeProblem) throw new Error(q.describe());
    expect([...q.values]).toEqual([70, 1, 2, 1]);
    expect(Number.isNaN(q.target)).toBe(true);
  });

  it('a problem never carries the cell value', () => {
    const secrets: RawRecord[] = [
      { age: '137.25-secret' },
      { age: '137.25' },
      { sex: 'Zq-secret-level' },
      { amio: 'secret-yes' },
      { dose: '9999.5' },
      { dose: 'secret-dose' },
    ];
    for (const over of secrets) {
      const secret = String(Object.values(over)[0]);
      const p = extractRow(study, { age: '70', sex: 'M', vk: 'A/A', amio: '1', dose: '49', ...over });
      if (!(p instanceof EncodeProblem)) throw new Error(`expected a problem for ${Object.keys(over)[0]}`);
      expect(p.column).toBe(Object.keys(over)[0]);
      expect(p.describe()).not.toContain(secret);
      expect(JSON.stringify(p)).not.toContain(secret);
      expect(Object.values(p).map(String).join(' ')).not.toContain(secret);
    }
  });
});

describe('cellsExtractor', () => {
  const study: Study = {
    name: 'mixed',
    task: 'regression',
    features: [
      { kind: 'numeric', name: 'age', min: 0, max: 120, map: { '90+': 95 }, missing: 'mean' },
      { kind: 'numeric', name: 'height', column: 'Height (cm)' },
      { kind: 'categorical', name: 'race', levels: ['a', 'b', 'u'], aliases: { B: 'b' }, missingLevel: 'u' },
      { kind: 'genotype', name: 'vk', gene: 'VKORC1', encoding: 'genotype', levels: ['GG', 'AG', 'AA', 'unknown'], unknownLevel: 'unknown', imputeFrom: [{ column: 'rs1', map: { CC: 'GG', TT: 'AA' } }] },
      { kind: 'binary', name: 'inducer', columns: ['drug1', 'drug2'] },
      { kind: 'binary', name: 'smoker' },
    ],
    target: { name: 'y', transform: 'sqrt', min: 0, max: 100 },
    model: { type: 'linear' },
    holdout: { fraction: 0.2, seed: 1 },
  };
  const header = ['y', 'smoker', 'drug2', 'rs1', 'vk', 'race', 'Height (cm)', 'drug1', 'age'];
  const records: RawRecord[] = [
    { age: '90+', 'Height (cm)': '170', race: 'B', vk: '', rs1: 'TT', drug1: '', drug2: '1', smoker: '0', y: '49' },
    { age: '', 'Height (cm)': '160.5', race: '', vk: 'AG', rs1: 'CC', drug1: '0', drug2: '', smoker: '1', y: '4' },
    { age: '40', 'Height (cm)': 'tall', race: 'a', vk: 'GG', rs1: '', drug1: '0', drug2: '0', smoker: '1', y: '4' },
    { age: '130', 'Height (cm)': '150', race: 'a', vk: 'GG', rs1: '', drug1: '0', drug2: '0', smoker: '1', y: '4' },
    { age: '40', 'Height (cm)': '150', race: 'z', vk: '', rs1: 'AT', drug1: '0', drug2: '0', smoker: 'yes', y: '4' },
    { age: '40', 'Height (cm)': '150', race: 'a', vk: '', rs1: '', drug1: '0', drug2: '0', smoker: '0', y: '' },
  ];

  it('reads cells by position with the same results and problems as extractRow', () => {
    const extract = cellsExtractor(study, (c) => header.indexOf(c));
    for (const r of records) expect(extract(header.map((h) => r[h]))).toEqual(extractRow(study, r));
    expect(extract(header.map((h) => records[0]![h]))).toEqual({ values: Float64Array.from([95, 170, 1, 2, 1, 0]), target: 7 });
  });

  it('for a query, reads no target: a row without one is still read, as extractRow(…, false) does', () => {
    const inputs = header.filter((h) => h !== 'y');
    const extract = cellsExtractor(study, (c) => inputs.indexOf(c), false);
    for (const r of records) expect(extract(inputs.map((h) => r[h]))).toEqual(extractRow(study, r, false));
    expect(extract(inputs.map((h) => records[5]![h]))).toEqual({ values: Float64Array.from([40, 150, 0, 3, 0, 0]), target: Number.NaN });
  });
});

describe('parseDecimal', () => {
  it('reads plain decimals exactly as Number does, and nothing else', () => {
    const ok = ['1', ' 1 ', '-1.5', '+.5', '1.', '1e5', '1E-5', '1.5e+3', '\t3\r', '00012', '-0', '0.1', '0.3', '4.35', '1e22', '1e23', '123456789012345678', '1.23456789012345678', '9007199254740993', '1e400', '1e-400', '0.1e-21'];
    for (const s of ok) expect(Object.is(parseDecimal(s), Number(s.trim()))).toBe(true);
    for (const s of ['', '  ', '.', '1e', 'e5', '0x10', '0b1', 'Infinity', 'NaN', '1 2', '--1', '+', '.e1', '1,5', '3.14abc', '1e5.5', '.5.']) expect(parseDecimal(s)).toBeNaN();
  });
});
