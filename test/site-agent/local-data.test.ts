import { afterEach, describe, expect, it } from 'vitest';
import { isFedrxError, type FedrxError } from '../../shared/errors.js';
import { runStudy } from '../../shared/expand-study.js';
import type { ExtractedRow } from '../../shared/extract.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import { inputDim, type Study } from '../../shared/study.js';
import { encodePart, loadSiteRows } from '../../site-agent/local-data.js';
import { csvText, tempDir, WARFARIN_COLUMNS, warfarinRows, warfarinStudy, type TempDir } from './helpers.js';

const study: Study = warfarinStudy();
let tmp: TempDir | undefined;
const dir = (): TempDir => (tmp ??= tempDir());
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

/** A run's preprocessing, written by hand: the old fixed standardisation of this study. */
const PREP: Preprocessing = {
  rows: 40,
  numeric: { age_years: { mean: 62, sd: 14 }, height_cm: { mean: 168, sd: 10 }, weight_kg: { mean: 78, sd: 18 } },
  target: { mean: 5.6, sd: 1.3 },
};

async function failure(p: Promise<unknown>): Promise<FedrxError> {
  try {
    await p;
  } catch (e) {
    if (isFedrxError(e)) return e;
    throw e;
  }
  throw new Error('expected a FedrxError');
}

const targets = (rows: readonly ExtractedRow[]): number[] => rows.map((r) => r.target);

describe('loadSiteRows', () => {
  it('reads every row into raw values and splits by the study hold-out fraction', async () => {
    const rows = warfarinRows(50);
    const file = dir().file('site.csv', csvText(rows));
    const data = await loadSiteRows(file, study, { siteId: 'site-a' });
    expect(data.totalRows).toBe(50);
    expect(data.dropped).toEqual({});
    expect(data.test.length).toBe(10); // 0.2 × 50
    // No validation part: 0.1 of the 40 training rows calibrate prediction intervals.
    expect([data.calibration.length, data.train.length]).toEqual([4, 36]);
    // Every row lands in exactly one part, its target the transformed dose √dose, not standardised.
    const want = rows.map((r) => Math.sqrt(Number(r.weekly_dose_mg))).sort();
    expect([...targets(data.train), ...targets(data.calibration), ...targets(data.test)].sort()).toEqual(want);
    // Raw values: ages in years (not standardised), one slot per feature.
    const ages = [...data.train, ...data.calibration, ...data.test].map((r) => r.values[0]).sort();
    expect(ages).toEqual(rows.map((r) => Number(r.age_years)).sort());
    expect(data.train[0]!.values.length).toBe(study.features.length);
  });

  it('splits reproducibly per site: same site same split, another site another split', async () => {
    const file = dir().file('site.csv', csvText(warfarinRows(60)));
    const a1 = await loadSiteRows(file, study, { siteId: 'site-a' });
    const a2 = await loadSiteRows(file, study, { siteId: 'site-a' });
    const b = await loadSiteRows(file, study, { siteId: 'site-b' });
    expect(a2).toEqual(a1);
    expect(targets(b.test)).not.toEqual(targets(a1.test));
    expect(b.test.length).toBe(a1.test.length);
    expect(targets(b.calibration)).not.toEqual(targets(a1.calibration));
    expect([...targets(b.train), ...targets(b.calibration), ...targets(b.test)].sort()).toEqual([...targets(a1.train), ...targets(a1.calibration), ...targets(a1.test)].sort());
  });

  it('calibrates on the validation part when there is one, else on a seeded share of training that never shrinks it below minRows', async () => {
    const file = dir().file('site.csv', csvText(warfarinRows(50)));
    const validated = await loadSiteRows(file, { ...study, validation: { fraction: 0.25 } }, { siteId: 'site-a' });
    expect(validated.calibration).toEqual([]); // the validation part calibrates: no training row spent
    const wider = await loadSiteRows(file, { ...study, calibration: { fraction: 0.25 } }, { siteId: 'site-a' });
    expect([wider.test.length, wider.calibration.length, wider.train.length]).toEqual([10, 10, 30]);
    // 14 usable rows: 3 held out, 11 training; 1 calibration row would leave 10 = minRows; 13 rows leave 10 training, none to spare.
    const fourteen = await loadSiteRows(dir().file('fourteen.csv', csvText(warfarinRows(14))), study, { siteId: 's' });
    expect([fourteen.calibration.length, fourteen.train.length]).toEqual([1, 10]);
    const thirteen = await loadSiteRows(dir().file('thirteen.csv', csvText(warfarinRows(13))), study, { siteId: 's' });
    expect([thirteen.calibration.length, thirteen.train.length]).toEqual([0, 10]);
  });

  it('sets a validation share of the training part aside; minRows counts the rows trained on', async () => {
    const validated: Study = { ...study, validation: { fraction: 0.25 } };
    const file = dir().file('site.csv', csvText(warfarinRows(50)));
    const plain = await loadSiteRows(file, study, { siteId: 'site-a' });
    const data = await loadSiteRows(file, validated, { siteId: 'site-a' });
    expect([data.test.length, data.validation.length, data.train.length]).toEqual([10, 10, 30]);
    expect(plain.validation).toEqual([]);
    // The held-out part is the same with or without validation; validation comes out of training.
    expect(data.test).toEqual(plain.test);
    expect([...targets(data.validation), ...targets(data.train)].sort()).toEqual([...targets(plain.train), ...targets(plain.calibration)].sort());
    // 16 usable rows: 3 held out, 13 training of which 3 validate, 10 left: just enough.
    const sixteen = dir().file('sixteen.csv', csvText(warfarinRows(16)));
    expect((await loadSiteRows(sixteen, validated, { siteId: 's' })).train).toHaveLength(10);
    const err = await failure(loadSiteRows(sixteen, { ...validated, validation: { fraction: 0.3 } }, { siteId: 's' }));
    expect(err.code).toBe('E_CSV_TOO_FEW_ROWS');
    expect(err.message).toContain('16 usable rows of 16, 9 of them for training (4 more for validation); the study needs 10 training rows');
  });

  it('keeps at least one row in each part', async () => {
    const small: Study = { ...study, minRows: 1 };
    const file = dir().file('site.csv', csvText(warfarinRows(2)));
    const data = await loadSiteRows(file, small, { siteId: 's' });
    expect([data.train.length, data.test.length]).toEqual([1, 1]);
  });

  it('names a missing column and the row count, and nothing else of the file', async () => {
    const columns = WARFARIN_COLUMNS.filter((c) => c !== 'vkorc1_1639');
    const file = dir().file('site.csv', csvText(warfarinRows(12), columns));
    const err = await failure(loadSiteRows(file, study, { siteId: 's' }));
    expect(err.code).toBe('E_CSV_MISSING_COLUMN');
    expect(err.message).toContain('"vkorc1_1639"');
    expect(err.message).toContain('12 rows');
    expect(err.message).not.toContain('P100'); // no patient ids or values
    expect(err.details).toEqual({ missing: ['vkorc1_1639'], rows: 12 });
  });

  it('lists every missing column', async () => {
    const columns = WARFARIN_COLUMNS.filter((c) => c !== 'sex' && c !== 'weekly_dose_mg');
    const file = dir().file('site.csv', csvText(warfarinRows(12), columns));
    const err = await failure(loadSiteRows(file, study, { siteId: 's' }));
    expect(err.message).toMatch(/2 required columns "sex", "weekly_dose_mg"/);
    expect(err.details).toEqual({ missing: ['sex', 'weekly_dose_mg'], rows: 12 });
  });

  it('reads renamed columns through the column mapping', async () => {
    const rows = warfarinRows(30);
    const renamed = rows.map(({ weight_kg, vkorc1_1639, ...rest }) => ({ ...rest, Weight: weight_kg!, VKORC1: vkorc1_1639! }));
    const columns = WARFARIN_COLUMNS.map((c) => (c === 'weight_kg' ? 'Weight' : c === 'vkorc1_1639' ? 'VKORC1' : c));
    const t = dir();
    const plain = await loadSiteRows(t.file('plain.csv', csvText(rows)), study, { siteId: 's' });
    const mappedFile = t.file('mapped.csv', csvText(renamed, columns));
    const unmapped = await failure(loadSiteRows(mappedFile, study, { siteId: 's' }));
    expect(unmapped.code).toBe('E_CSV_MISSING_COLUMN');
    expect(unmapped.details).toEqual({ missing: ['weight_kg', 'vkorc1_1639'], rows: 30 });
    const mapped = await loadSiteRows(mappedFile, study, { siteId: 's', columnMap: { weight_kg: 'Weight', vkorc1_1639: 'VKORC1' } });
    expect(mapped).toEqual(plain);
    const [mx, px] = [encodePart(study, PREP, mapped.train), encodePart(study, PREP, plain.train)];
    expect(Buffer.from(mx.x.buffer).equals(Buffer.from(px.x.buffer))).toBe(true);
    expect(Buffer.from(mx.y.buffer).equals(Buffer.from(px.y.buffer))).toBe(true);
    // A mapping to a column the file lacks names both sides.
    const wrong = await failure(loadSiteRows(mappedFile, study, { siteId: 's', columnMap: { weight_kg: 'Wt', vkorc1_1639: 'VKORC1' } }));
    expect(wrong.message).toContain('"weight_kg" (mapped to "Wt")');
  });

  it('refuses a column of the wrong type or out of range, naming the column, the problem and the row count, never a value', async () => {
    const rows = warfarinRows(40);
    rows[0]!.age_years = 150; // out of range (18..100)
    rows[4]!.age_years = 7;
    rows[2]!.weekly_dose_mg = 'n/a'; // not a number
    rows[3]!.sex = 'X'; // unknown level
    rows[5]!.sex = ''; // missing, no missingLevel: an unusable row, not a misfit
    const file = dir().file('site.csv', csvText(rows));
    const err = await failure(loadSiteRows(file, study, { siteId: 's' }));
    expect(err.code).toBe('E_CSV_BAD_VALUE');
    expect(err.message).toContain('column "age_years": 2 rows out of range (lines 2, 6)');
    expect(err.message).toContain('column "weekly_dose_mg": 1 row not a number (line 4)');
    expect(err.message).toContain('column "sex": 1 row with a level the study does not know (line 5)');
    expect(err.message).toContain('--drop-bad-rows');
    expect(err.message).not.toMatch(/150|n\/a|"X"/);
    expect(err.details).toEqual({ rows: 40, problems: { 'age_years:out-of-range': 2, 'weekly_dose_mg:not-a-number': 1, 'sex:unknown-level': 1 } });
    // A whole column of text is refused the same way, with the count of every row.
    const text = warfarinRows(30).map((r) => ({ ...r, height_cm: 'tall' }));
    const all = await failure(loadSiteRows(dir().file('text.csv', csvText(text)), study, { siteId: 's' }));
    expect(all.message).toContain('column "height_cm": 30 rows not a number (lines 2, 3, 4, 5, 6, …)');
    // Missing values alone are not a misfit: those rows are left out and counted.
    const gaps = warfarinRows(30);
    gaps[0]!.sex = '';
    expect((await loadSiteRows(dir().file('gaps.csv', csvText(gaps)), study, { siteId: 's' })).dropped).toEqual({ 'sex:missing': 1 });
  });

  it('with dropBadRows, drops rows with bad values and counts them per column and problem', async () => {
    const rows = warfarinRows(40);
    rows[0]!.age_years = 150; // out of range (18..100)
    rows[1]!.age_years = 7;
    rows[2]!.weekly_dose_mg = 1000; // out of range (1..400)
    rows[3]!.sex = 'X'; // unknown level
    rows[4]!.weekly_dose_mg = 'n/a'; // not a number
    rows[5]!.sex = ''; // missing, no missingLevel
    rows[6]!.age_years = ''; // missing but imputed (missing: mean): kept, as NaN
    rows[7]!.cyp2c9 = ''; // missing genotype → "unknown": kept
    [0, 1, 3, 5].forEach((i) => (rows[i]!.weekly_dose_mg = 300 + i + 0.25)); // doses no other row has
    const file = dir().file('site.csv', csvText(rows));
    const data = await loadSiteRows(file, study, { siteId: 's', dropBadRows: true });
    expect(data.dropped).toEqual({
      'age_years:out-of-range': 2,
      'weekly_dose_mg:out-of-range': 1,
      'sex:unknown-level': 1,
      'weekly_dose_mg:not-a-number': 1,
      'sex:missing': 1,
    });
    expect(data.totalRows).toBe(40);
    expect(data.train.length + data.calibration.length + data.test.length).toBe(34);
    expect(data.test.length).toBe(7); // round(0.2 × 34)
    const kept = [...data.train, ...data.calibration, ...data.test];
    // The kept rows: exactly one NaN age (row 6), exactly one unknown CYP2C9 (row 7, level 6).
    expect(kept.filter((r) => Number.isNaN(r.values[0])).map((r) => r.target)).toEqual([Math.sqrt(Number(rows[6]!.weekly_dose_mg))]);
    expect(kept.filter((r) => r.values[5] === 6).map((r) => r.target)).toEqual([Math.sqrt(Number(rows[7]!.weekly_dose_mg))]);
    // No dropped row survives: none of their marked doses is among the kept targets.
    expect(kept.filter((r) => r.target ** 2 > 299).length).toBe(0);
  });

  it('refuses a file whose training part is under the study minimum, with counts but no values', async () => {
    const rows = warfarinRows(14);
    for (let i = 0; i < 6; i++) rows[i]!.ancestry = 'Martian';
    const file = dir().file('site.csv', csvText(rows));
    const err = await failure(loadSiteRows(file, study, { siteId: 's', dropBadRows: true }));
    expect(err.code).toBe('E_CSV_TOO_FEW_ROWS');
    // 8 usable rows: 2 held out, 6 to train on and to describe in the statistics, under 10.
    expect(err.message).toContain('8 usable rows of 14, 6 of them for training; the study needs 10 training rows');
    expect(err.message).toContain('ancestry:unknown-level ×6');
    expect(err.message).not.toContain('Martian');
    expect(err.details).toEqual({ usable: 8, train: 6, rows: 14, minRows: 10, dropped: { 'ancestry:unknown-level': 6 } });
    // 12 usable rows are not enough either: their training part is 10 only with a minimum of 10.
    await expect(loadSiteRows(dir().file('eleven.csv', csvText(warfarinRows(11))), study, { siteId: 's' })).rejects.toMatchObject({ code: 'E_CSV_TOO_FEW_ROWS' });
    // The same rows pass once the study asks for fewer.
    const data = await loadSiteRows(file, { ...study, minRows: 6 }, { siteId: 's', dropBadRows: true });
    expect([data.train.length, data.test.length]).toEqual([6, 2]);
  });
});

describe('encodePart', () => {
  it('standardises with the run preprocessing and keeps the actual dose for metrics', async () => {
    const rows = warfarinRows(50);
    const file = dir().file('site.csv', csvText(rows));
    const data = await loadSiteRows(file, study, { siteId: 'site-a' });
    const train = encodePart(study, PREP, [...data.train, ...data.calibration]);
    const test = encodePart(study, PREP, data.test);
    const width = inputDim(study);
    expect([train.n, test.n]).toEqual([40, 10]);
    expect(train.x.length).toBe(40 * width);
    expect(test.y.length).toBe(10);
    // Target in model space: (√dose − 5.6) / 1.3, as float32.
    const want = rows.map((r) => Math.fround((Math.sqrt(Number(r.weekly_dose_mg)) - 5.6) / 1.3)).sort();
    expect([...train.y, ...test.y].sort()).toEqual(want);
    // Actual in mg/week, for metrics: back through the square.
    const doses = rows.map((r) => Number(r.weekly_dose_mg)).sort((a, b) => a - b);
    const actual = [...train.actual, ...test.actual].sort((a, b) => a - b);
    actual.forEach((a, i) => expect(a).toBeCloseTo(doses[i]!, 10));
    // First input is the standardised age of the same row.
    data.train.forEach((r, i) => expect(train.x[i * width]).toBe(Math.fround((r.values[0]! - 62) / 14)));
  });

  it('encodes an empty part as empty arrays', () => {
    const part = encodePart(study, PREP, []);
    expect([part.n, part.x.length, part.y.length, part.actual.length]).toEqual([0, 0, 0, 0]);
  });
});

describe('loadSiteRows with feature groups', () => {
  const geneStudy: Study = {
    name: 'genes',
    task: 'regression',
    idColumn: 'id',
    features: [],
    groups: [{ kind: 'numeric', match: '^g_', missing: 'mean' }],
    target: { name: 'y', transform: 'identity', min: -1000, max: 1000 },
    model: { type: 'linear', l2: 'auto' },
    holdout: { fraction: 0.2, seed: 1 },
  };
  /** `rows` rows of id, y and `width` gene columns g_0 … (cell i,j = (i + j) mod 7 − 3). */
  function geneCsv(width: number, rows: number, cell = (i: number, j: number): string => String(((i + j) % 7) - 3)): string {
    const header = ['id', 'y', ...Array.from({ length: width }, (_, j) => `g_${j}`)].join(',');
    const lines = Array.from({ length: rows }, (_, i) => [`r${i}`, String(i), ...Array.from({ length: width }, (_, j) => cell(i, j))].join(','));
    return `${header}\n${lines.join('\n')}\n`;
  }

  it('a CSV with 60,000 columns is read: every gene column becomes an input, in CSV order', async () => {
    const file = dir().file('wide.csv', geneCsv(60_000, 13));
    const data = await loadSiteRows(file, geneStudy, { siteId: 'site-a' });
    expect(data.study.features).toHaveLength(60_000);
    expect(data.study.features[59_999]!.name).toBe('g_59999');
    expect(data.train.length + data.test.length).toBe(13);
    const row = data.train[0]!;
    const i = Number(targets([row])[0]);
    expect(row.values[59_999]).toBe(((i + 59_999) % 7) - 3);
  });

  it('a gene column holding text at this site is refused naming the column and lines, not the cells', async () => {
    const file = dir().file('text.csv', geneCsv(20, 12, (i, j) => (j === 4 ? `secret${i}` : '1')));
    const err = await failure(loadSiteRows(file, geneStudy, { siteId: 'site-a' }));
    expect(err.code).toBe('E_CSV_BAD_VALUE');
    expect(err.message).toContain('column "g_4": 12 rows not a number (lines 2, 3, 4, 5, 6, …)');
    expect(err.message).not.toContain('secret');
  });

  it("a site whose columns differ from the run's fixed list is refused naming only the missing columns", async () => {
    const file = dir().file('short.csv', geneCsv(300, 12).replace(/(^|,)g_17,/, '$1x_17,').replace(',g_250,', ',x_250,'));
    const fixed = Array.from({ length: 300 }, (_, j) => `g_${j}`);
    const run = runStudy(geneStudy, { inputs: { groups: [fixed], dropped: [] } });
    const err = await failure(loadSiteRows(file, run, { siteId: 'site-a' }));
    expect(err.code).toBe('E_CSV_MISSING_COLUMN');
    expect(err.message).toBe('site CSV short.csv (12 rows) lacks 2 required columns "g_17", "g_250"');
    expect(err.details).toEqual({ missing: ['g_17', 'g_250'], rows: 12 });
  });
});

describe('loadSiteRows with feature groups and a column mapping', () => {
  it('a named feature mapped to a column that looks like a group member is not claimed by the group', async () => {
    const study: Study = {
      name: 'mapped',
      task: 'regression',
      features: [{ kind: 'numeric', name: 'age', min: 0, max: 120 }],
      groups: [{ kind: 'numeric', match: '^g_' }],
      target: { name: 'y', transform: 'identity', min: -100, max: 100 },
      model: { type: 'linear' },
      holdout: { fraction: 0.2, seed: 1 },
    };
    const lines = Array.from({ length: 12 }, (_, i) => `${40 + i},${i},${i % 3},${i % 5}`);
    const file = dir().file('mapped.csv', `g_age,y,g_1,g_2\n${lines.join('\n')}\n`);
    const data = await loadSiteRows(file, study, { siteId: 's', columnMap: { age: 'g_age' } });
    expect(data.study.features.map((f) => f.name)).toEqual(['age', 'g_1', 'g_2']);
    expect(data.train[0]!.values[0]).toBeGreaterThanOrEqual(40);
  });
});
