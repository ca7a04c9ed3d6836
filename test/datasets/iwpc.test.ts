import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as aq from 'arquero';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iwpcSqrtDose, iwpcWeeklyDose, type IwpcPatient } from '../../datasets/iwpc-formula.js';
import {
  IWPC_CSV,
  IWPC_FEATURE_NAMES,
  IWPC_HOLDOUT_SEED,
  IWPC_SITE_COLUMNS,
  iwpcAgeDecade,
  iwpcAvailable,
  iwpcBodySizeMeans,
  iwpcCyp2c9,
  iwpcDose,
  iwpcFeatures,
  iwpcFormulaWeights,
  iwpcPatient,
  iwpcSiteId,
  iwpcTestSplit,
  iwpcVkorc1,
  loadIwpc,
  splitBySite,
  writeIwpcSiteCsvs,
  type IwpcRecord,
} from '../../datasets/iwpc.js';
import { holdoutSplit } from '../../shared/holdout.js';
import { addPrediction, emptySums, metricsFromSums } from '../../shared/metrics.js';
import { tempDir } from '../helpers/temp.js';

/** A made-up record (not a patient of the cohort): complete and unremarkable unless overridden. */
function rec(over: Record<string, string> = {}): IwpcRecord {
  return {
    'PharmGKB Subject ID': 'X1',
    'Project Site': '1',
    Gender: 'female',
    'Race (OMB)': 'White',
    Age: '60 - 69',
    'Height (cm)': '170',
    'Weight (kg)': '80',
    'Amiodarone (Cordarone)': '0.0',
    'Carbamazepine (Tegretol)': '',
    'Phenytoin (Dilantin)': '',
    'Rifampin or Rifampicin': '',
    'Therapeutic Dose of Warfarin': '35.0',
    'CYP2C9 consensus': '*1/*1',
    'VKORC1 -1639 consensus': 'A/G',
    ...over,
  };
}

describe('IWPC record mapping (made-up records)', () => {
  it('reads age bands as decades', () => {
    expect(iwpcAgeDecade('10 - 19')).toBe(1);
    expect(iwpcAgeDecade('60 - 69')).toBe(6);
    expect(iwpcAgeDecade('80 - 89')).toBe(8);
    expect(iwpcAgeDecade('90+')).toBe(9);
    expect(iwpcAgeDecade('')).toBeNull();
    expect(iwpcAgeDecade('sixty')).toBeNull();
  });

  it('maps a complete record onto the formula inputs', () => {
    const p = iwpcPatient(rec());
    expect(p).toEqual({
      ageYears: 65,
      heightCm: 170,
      weightKg: 80,
      vkorc1: 'A/G',
      cyp2c9: '*1/*1',
      race: 'White',
      enzymeInducer: false,
      amiodarone: false,
    } satisfies IwpcPatient);
    // Same patient as the hand-computed example of the formula test: 32.16 mg/week.
    expect(iwpcWeeklyDose(p)).toBeCloseTo(32.16364369, 8);
  });

  it('maps race, drugs and genotypes', () => {
    expect(iwpcPatient(rec({ 'Race (OMB)': 'Black or African American' })).race).toBe('Black');
    expect(iwpcPatient(rec({ 'Race (OMB)': 'Asian' })).race).toBe('Asian');
    expect(iwpcPatient(rec({ 'Race (OMB)': 'Unknown' })).race).toBe('unknown');
    expect(iwpcPatient(rec({ 'Phenytoin (Dilantin)': '1.0' })).enzymeInducer).toBe(true);
    expect(iwpcPatient(rec({ 'Rifampin or Rifampicin': '1' })).enzymeInducer).toBe(true);
    expect(iwpcPatient(rec({ 'Amiodarone (Cordarone)': '1.0' })).amiodarone).toBe(true);
    expect(iwpcCyp2c9(rec({ 'CYP2C9 consensus': '*2/*3' }))).toBe('*2/*3');
    expect(iwpcCyp2c9(rec({ 'CYP2C9 consensus': '*1/*11' }))).toBe('unknown');
    expect(iwpcCyp2c9(rec({ 'CYP2C9 consensus': '' }))).toBe('unknown');
    expect(iwpcVkorc1(rec({ 'VKORC1 -1639 consensus': 'G/G' }))).toBe('G/G');
    expect(iwpcVkorc1(rec({ 'VKORC1 -1639 consensus': '' }))).toBe('unknown');
  });

  it('imputes a missing VKORC1 -1639 call from linked SNPs only when asked, with the IWPC race rules', () => {
    const missing = { 'VKORC1 -1639 consensus': '' };
    const white = (o: Record<string, string>): IwpcRecord => rec({ ...missing, ...o });
    const black = (o: Record<string, string>): IwpcRecord => rec({ ...missing, 'Race (OMB)': 'Black or African American', ...o });
    expect(iwpcVkorc1(white({ 'VKORC1 2255 consensus': 'T/T' }))).toBe('unknown'); // off by default
    expect(iwpcVkorc1(white({ 'VKORC1 2255 consensus': 'T/T' }), true)).toBe('A/A');
    expect(iwpcVkorc1(white({ 'VKORC1 2255 consensus': 'C/C' }), true)).toBe('G/G');
    expect(iwpcVkorc1(white({ 'VKORC1 2255 consensus': 'C/T' }), true)).toBe('unknown');
    expect(iwpcVkorc1(white({ 'VKORC1 1173 consensus': 'C/T' }), true)).toBe('A/G');
    expect(iwpcVkorc1(white({ 'VKORC1 1542 consensus': 'C/C' }), true)).toBe('A/A');
    // Black or unknown race: rs2359612 and rs8050894 are not used, rs9934438 is.
    expect(iwpcVkorc1(black({ 'VKORC1 2255 consensus': 'T/T', 'VKORC1 1542 consensus': 'C/C' }), true)).toBe('unknown');
    expect(iwpcVkorc1(black({ 'VKORC1 1173 consensus': 'T/T' }), true)).toBe('A/A');
    expect(iwpcVkorc1(rec({ ...missing, 'Race (OMB)': 'Unknown', 'VKORC1 1542 consensus': 'G/G' }), true)).toBe('unknown');
    // A measured call is never overridden.
    expect(iwpcVkorc1(rec({ 'VKORC1 1173 consensus': 'T/T' }), true)).toBe('A/G');
    expect(iwpcPatient(white({ 'VKORC1 1173 consensus': 'C/C' }), { imputeVkorc1: true }).vkorc1).toBe('G/G');
  });

  it('fills a missing height or weight only from the given fill', () => {
    const noHeight = rec({ 'Height (cm)': '' });
    expect(() => iwpcPatient(noHeight)).toThrow(/no fill/);
    const p = iwpcPatient(noHeight, { fill: { heightCm: 160, weightKg: 70 } });
    expect([p.heightCm, p.weightKg]).toEqual([160, 80]);
    const q = iwpcPatient(rec({ 'Weight (kg)': '' }), { fill: () => ({ heightCm: 150, weightKg: 65 }) });
    expect([q.heightCm, q.weightKg]).toEqual([170, 65]);
    expect(() => iwpcPatient(rec({ Age: '' }))).toThrow(/Age/);
  });

  it('averages heights and weights over the records that have them', () => {
    const m = iwpcBodySizeMeans([
      rec({ 'Height (cm)': '160', 'Weight (kg)': '' }),
      rec({ 'Height (cm)': '180', 'Weight (kg)': '70' }),
      rec({ 'Height (cm)': '', 'Weight (kg)': '90' }),
    ]);
    expect(m).toEqual({ heightCm: 170, weightKg: 80 });
  });

  it('the 17 features with the published weights give the formula', () => {
    expect(IWPC_FEATURE_NAMES).toHaveLength(17);
    const w = iwpcFormulaWeights();
    expect(w).toHaveLength(18);
    const patients: IwpcPatient[] = [
      iwpcPatient(rec()),
      iwpcPatient(rec({ 'Race (OMB)': 'Asian', 'CYP2C9 consensus': '*3/*3', 'VKORC1 -1639 consensus': 'A/A', Age: '90+' })),
      iwpcPatient(rec({ 'Race (OMB)': 'Unknown', 'CYP2C9 consensus': '', 'VKORC1 -1639 consensus': '', 'Carbamazepine (Tegretol)': '1.0', 'Amiodarone (Cordarone)': '1.0' })),
    ];
    for (const p of patients) {
      const f = iwpcFeatures(p);
      expect(f).toHaveLength(17);
      const s = w[0]! + f.reduce((acc, x, i) => acc + x * w[i + 1]!, 0);
      expect(s).toBeCloseTo(iwpcSqrtDose(p), 12);
    }
  });

  it('groups by site and writes quoted site CSVs that read back unchanged', async () => {
    const records = [
      rec({ 'PharmGKB Subject ID': 'A', 'Project Site': '2' }),
      rec({ 'PharmGKB Subject ID': 'B', 'Project Site': '10', 'Herbal Medications, Vitamins, Supplements': 'x, "y"' }),
      rec({ 'PharmGKB Subject ID': 'C', 'Project Site': '2' }),
    ];
    const bySite = splitBySite(records);
    expect([...bySite.keys()]).toEqual([2, 10]);
    expect(bySite.get(2)!.map((r) => r['PharmGKB Subject ID'])).toEqual(['A', 'C']);
    const dir = tempDir('iwpc-unit');
    try {
      const files = await writeIwpcSiteCsvs(records, dir);
      expect(files.map((f) => [f.siteId, f.rows])).toEqual([
        ['iwpc-02', 2],
        ['iwpc-10', 1],
      ]);
      const t = aq.fromCSV(readFileSync(files[1]!.file, 'utf8'), { autoType: false });
      expect(t.columnNames()).toEqual([...IWPC_SITE_COLUMNS]);
      expect(t.get('Herbal Medications, Vitamins, Supplements', 0)).toBe('x, "y"');
      expect(t.get('Weight (kg)', 0)).toBe('80');
      expect(t.get('Diabetes', 0)).toBeNull(); // absent in the record → empty cell
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const available = iwpcAvailable();
if (!available) {
  console.warn(`IWPC cohort tests skipped: ${IWPC_CSV} is absent (real data is read beside the checkout, never copied in).`);
}

describe.skipIf(!available)(available ? 'IWPC cohort (real data)' : `IWPC cohort: skipped, ${IWPC_CSV} is absent`, () => {
  let records: IwpcRecord[] = [];
  let dir = '';
  beforeAll(async () => {
    records = await loadIwpc();
    dir = tempDir('iwpc-sites');
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the 5,998 patients with a dose and an age', () => {
    expect(records).toHaveLength(5998);
    expect(records.every((r) => Number.isFinite(iwpcDose(r)) && iwpcDose(r) > 0)).toBe(true);
  });

  it('has 22 sites from 63 to 789 patients', () => {
    const bySite = splitBySite(records);
    expect([...bySite.keys()]).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    const sizes = [...bySite.values()].map((rows) => rows.length);
    expect(Math.min(...sizes)).toBe(63);
    expect(Math.max(...sizes)).toBe(789);
    expect(bySite.get(13)).toHaveLength(63);
    expect(bySite.get(3)).toHaveLength(789);
  });

  it('holds out 20% of every site (rounded), 1,200 in all, with shared/holdout.ts', () => {
    const split = iwpcTestSplit(records);
    const bySite = splitBySite(records);
    expect(split.sites).toHaveLength(22);
    expect(split.test).toHaveLength(1200);
    expect(split.train).toHaveLength(5998 - 1200);
    for (const s of split.sites) {
      const rows = bySite.get(s.site)!;
      expect(s.siteId).toBe(iwpcSiteId(s.site));
      expect(Math.abs(s.test.length - 0.2 * rows.length)).toBeLessThanOrEqual(0.5);
      expect(s.train.length + s.test.length).toBe(rows.length);
      const idx = holdoutSplit(rows.length, 0.2, IWPC_HOLDOUT_SEED, s.siteId);
      expect(s.test).toEqual(idx.test.map((i) => rows[i]));
    }
    const ids = (rs: IwpcRecord[]): string[] => rs.map((r) => r['PharmGKB Subject ID']!);
    expect(new Set([...ids(split.train), ...ids(split.test)]).size).toBe(5998);
  });

  it('scores the published formula on the test part near the reference MAE of 9.00', () => {
    const split = iwpcTestSplit(records);
    const fill = iwpcBodySizeMeans(split.train);
    let sums = emptySums();
    for (const r of split.test) sums = addPrediction(sums, iwpcWeeklyDose(iwpcPatient(r, { fill })), iwpcDose(r));
    const m = metricsFromSums(sums);
    expect(m.n).toBe(1200);
    expect(Math.abs(m.mae - 9.0)).toBeLessThan(0.5);
    expect(m.pw20).toBeGreaterThan(40);
  });

  it('writes one CSV per site that reads back with the same rows and columns', async () => {
    const files = await writeIwpcSiteCsvs(records, dir);
    expect(files.map((f) => f.siteId)).toEqual(Array.from({ length: 22 }, (_, i) => iwpcSiteId(i + 1)));
    const bySite = splitBySite(records);
    for (const f of files) {
      expect(f.file).toBe(join(dir, `${f.siteId}.csv`));
      const t = aq.fromCSV(readFileSync(f.file, 'utf8'), { autoType: false });
      expect(t.columnNames()).toEqual([...IWPC_SITE_COLUMNS]);
      const expected = bySite.get(f.site)!.map((r) => Object.fromEntries(IWPC_SITE_COLUMNS.map((c) => [c, r[c]])));
      const back = t.objects().map((o) =>
        Object.fromEntries(IWPC_SITE_COLUMNS.map((c) => [c, (o as Record<string, string | null>)[c] ?? ''])),
      );
      expect(f.rows).toBe(expected.length);
      expect(back).toEqual(expected);
    }
  });
});
