import { afterEach, describe, expect, it } from 'vitest';
import { isFedrxError, type FedrxError } from '../../shared/errors.js';
import { inputDim, type Study } from '../../shared/study.js';
import { loadLocalData } from '../../site-agent/local-data.js';
import { csvText, tempDir, WARFARIN_COLUMNS, warfarinRows, warfarinStudy, type TempDir } from './helpers.js';

const study: Study = warfarinStudy();
let tmp: TempDir | undefined;
const dir = (): TempDir => (tmp ??= tempDir());
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

async function failure(p: Promise<unknown>): Promise<FedrxError> {
  try {
    await p;
  } catch (e) {
    if (isFedrxError(e)) return e;
    throw e;
  }
  throw new Error('expected a FedrxError');
}

describe('loadLocalData', () => {
  it('encodes every row and splits by the study hold-out fraction', async () => {
    const rows = warfarinRows(50);
    const file = dir().file('site.csv', csvText(rows));
    const data = await loadLocalData(file, study, { siteId: 'site-a' });
    expect(data.width).toBe(inputDim(study));
    expect(data.totalRows).toBe(50);
    expect(data.dropped).toEqual({});
    expect(data.test.n).toBe(10); // 0.2 × 50
    expect(data.train.n).toBe(40);
    expect(data.train.x.length).toBe(40 * data.width);
    expect(data.test.y.length).toBe(10);
    // Every row lands in exactly one part, with its target transformed: (sqrt(dose) − 5.6) / 1.3.
    const want = rows.map((r) => Math.fround((Math.sqrt(Number(r.weekly_dose_mg)) - 5.6) / 1.3)).sort();
    expect([...data.train.y, ...data.test.y].sort()).toEqual(want);
  });

  it('splits reproducibly per site: same site same split, another site another split', async () => {
    const file = dir().file('site.csv', csvText(warfarinRows(60)));
    const a1 = await loadLocalData(file, study, { siteId: 'site-a' });
    const a2 = await loadLocalData(file, study, { siteId: 'site-a' });
    const b = await loadLocalData(file, study, { siteId: 'site-b' });
    expect(Buffer.from(a1.test.x.buffer).equals(Buffer.from(a2.test.x.buffer))).toBe(true);
    expect(Buffer.from(a1.test.y.buffer).equals(Buffer.from(b.test.y.buffer))).toBe(false);
    expect(b.test.n).toBe(a1.test.n);
  });

  it('keeps at least one row in each part', async () => {
    const small: Study = { ...study, minRows: 2 };
    const file = dir().file('site.csv', csvText(warfarinRows(2)));
    const data = await loadLocalData(file, small, { siteId: 's' });
    expect([data.train.n, data.test.n]).toEqual([1, 1]);
  });

  it('names a missing column and the row count, and nothing else of the file', async () => {
    const columns = WARFARIN_COLUMNS.filter((c) => c !== 'vkorc1_1639');
    const file = dir().file('site.csv', csvText(warfarinRows(12), columns));
    const err = await failure(loadLocalData(file, study, { siteId: 's' }));
    expect(err.code).toBe('E_CSV_MISSING_COLUMN');
    expect(err.message).toContain('"vkorc1_1639"');
    expect(err.message).toContain('12 rows');
    expect(err.message).not.toContain('P100'); // no patient ids or values
    expect(err.details).toEqual({ missing: ['vkorc1_1639'], rows: 12 });
  });

  it('lists every missing column', async () => {
    const columns = WARFARIN_COLUMNS.filter((c) => c !== 'sex' && c !== 'weekly_dose_mg');
    const file = dir().file('site.csv', csvText(warfarinRows(12), columns));
    const err = await failure(loadLocalData(file, study, { siteId: 's' }));
    expect(err.message).toMatch(/columns "sex", "weekly_dose_mg"/);
  });

  it('reads renamed columns through the column mapping', async () => {
    const rows = warfarinRows(30);
    const renamed = rows.map(({ weight_kg, vkorc1_1639, ...rest }) => ({ ...rest, Weight: weight_kg!, VKORC1: vkorc1_1639! }));
    const columns = WARFARIN_COLUMNS.map((c) => (c === 'weight_kg' ? 'Weight' : c === 'vkorc1_1639' ? 'VKORC1' : c));
    const t = dir();
    const plain = await loadLocalData(t.file('plain.csv', csvText(rows)), study, { siteId: 's' });
    const mappedFile = t.file('mapped.csv', csvText(renamed, columns));
    const unmapped = await failure(loadLocalData(mappedFile, study, { siteId: 's' }));
    expect(unmapped.code).toBe('E_CSV_MISSING_COLUMN');
    const mapped = await loadLocalData(mappedFile, study, { siteId: 's', columnMap: { weight_kg: 'Weight', vkorc1_1639: 'VKORC1' } });
    expect(Buffer.from(mapped.train.x.buffer).equals(Buffer.from(plain.train.x.buffer))).toBe(true);
    expect(Buffer.from(mapped.test.y.buffer).equals(Buffer.from(plain.test.y.buffer))).toBe(true);
    // A mapping to a column the file lacks names both sides.
    const wrong = await failure(loadLocalData(mappedFile, study, { siteId: 's', columnMap: { weight_kg: 'Wt', vkorc1_1639: 'VKORC1' } }));
    expect(wrong.message).toContain('"weight_kg" (mapped to "Wt")');
  });

  it('drops rows with bad values and counts them per column and problem', async () => {
    const rows = warfarinRows(40);
    rows[0]!.age_years = 150; // out of range (18..100)
    rows[1]!.age_years = 7;
    rows[2]!.weekly_dose_mg = 1000; // out of range (1..400)
    rows[3]!.sex = 'X'; // unknown level
    rows[4]!.weekly_dose_mg = 'n/a'; // not a number
    rows[5]!.sex = ''; // missing, no missingLevel
    rows[6]!.age_years = ''; // missing but imputed (missing: center): kept
    rows[7]!.cyp2c9 = ''; // missing → "unknown": kept
    const file = dir().file('site.csv', csvText(rows));
    const data = await loadLocalData(file, study, { siteId: 's' });
    expect(data.dropped).toEqual({
      'age_years:out-of-range': 2,
      'weekly_dose_mg:out-of-range': 1,
      'sex:unknown-level': 1,
      'weekly_dose_mg:not-a-number': 1,
      'sex:missing': 1,
    });
    expect(data.train.n + data.test.n).toBe(34);
    expect(data.test.n).toBe(7); // round(0.2 × 34)
  });

  it('refuses a file with too few usable rows, with counts but no values', async () => {
    const rows = warfarinRows(14);
    for (let i = 0; i < 6; i++) rows[i]!.ancestry = 'Martian';
    const file = dir().file('site.csv', csvText(rows));
    const err = await failure(loadLocalData(file, study, { siteId: 's' }));
    expect(err.code).toBe('E_CSV_TOO_FEW_ROWS');
    expect(err.message).toContain('8 usable rows of 14');
    expect(err.message).toContain('ancestry:unknown-level ×6');
    expect(err.message).not.toContain('Martian');
    expect(err.details).toMatchObject({ usable: 8, minRows: 10, dropped: { 'ancestry:unknown-level': 6 } });
  });
});
