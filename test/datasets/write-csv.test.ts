import { describe, expect, it } from 'vitest';
import { formatCsvValue, patientToRow, quoteCsvField, SYNTHETIC_COLUMNS, toCsv } from '../../datasets/write-csv.js';

describe('toCsv', () => {
  it('quotes fields with comma, quote or newline and doubles embedded quotes', () => {
    expect(quoteCsvField('plain')).toBe('plain');
    expect(quoteCsvField('a,b')).toBe('"a,b"');
    expect(quoteCsvField('say "hi"')).toBe('"say ""hi"""');
    expect(quoteCsvField('two\nlines')).toBe('"two\nlines"');
    const csv = toCsv([{ a: 'x,y', b: 1.005 }, { a: null, b: true }], ['a', 'b'] as const);
    expect(csv).toBe('a,b\n"x,y",1\n,1\n');
  });

  it('formats numbers with at most 2 decimals and booleans as 0/1', () => {
    expect(formatCsvValue(32.163643)).toBe('32.16');
    expect(formatCsvValue(170)).toBe('170');
    expect(formatCsvValue(-0.001)).toBe('0');
    expect(formatCsvValue(false)).toBe('0');
    expect(formatCsvValue(undefined)).toBe('');
    expect(() => formatCsvValue(Number.NaN)).toThrow(RangeError);
  });

  it('has the exact synthetic column layout', () => {
    expect(SYNTHETIC_COLUMNS.join(',')).toBe(
      'patient_id,age_years,sex,height_cm,weight_kg,ancestry,cyp2c9,vkorc1_1639,amiodarone,enzyme_inducer,weekly_dose_mg',
    );
    const row = patientToRow({
      patientId: 'site-1-0001',
      siteId: 'site-1',
      ageYears: 65,
      sex: 'F',
      heightCm: 162.4,
      weightKg: 70.1,
      ancestry: 'Asian',
      cyp2c9: '*1/*3',
      vkorc1: 'A/A',
      cyp2c9Observed: null,
      vkorc1Observed: 'A/A',
      amiodarone: true,
      enzymeInducer: false,
      weeklyDoseMg: 21.37,
    });
    expect(toCsv([row], SYNTHETIC_COLUMNS).split('\n')[1]).toBe('site-1-0001,65,F,162.4,70.1,Asian,,A/A,1,0,21.37');
  });
});
