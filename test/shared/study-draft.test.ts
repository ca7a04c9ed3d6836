import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { studyYaml } from '../../cli/study-init.js';
import { readCsv } from '../../shared/csv.js';
import { matchGroups } from '../../shared/expand-study.js';
import { checkStudy } from '../../shared/load-study.js';
import { draftStudy, namePrefix, widenedRange } from '../../shared/study-draft.js';

/** 20 rows: id, a text name unique per row, a 3-level category, a constant, 6 expr_ and 5 mut_ columns, age with gaps, two outcomes. */
function panel(rows = 20, genes = 6): string {
  const header = ['sample', 'name', 'tissue', 'batch', 'age', ...Array.from({ length: genes }, (_, j) => `expr_G${j}`), ...Array.from({ length: 5 }, (_, j) => `mut_G${j}`), 'ic50_a', 'ic50_b', 'free_text'];
  const lines = Array.from({ length: rows }, (_, i) => [
    `S${i}`,
    `line ${i}`,
    ['lung', 'skin', 'blood'][i % 3],
    'b1',
    i % 4 === 0 ? '' : String(30 + i),
    ...Array.from({ length: genes }, (_, j) => ((i * (j + 1)) % 5) / 2 - 1),
    ...Array.from({ length: 5 }, (_, j) => ((i + j) % 3 === 0 ? 1 : 0)),
    (i / 4 - 2).toFixed(2),
    (i / 3).toFixed(2),
    `note ${i % 15}`,
  ].join(','));
  return `${header.join(',')}\n${lines.join('\n')}\n`;
}

describe('draftStudy', () => {
  it('infers kinds, groups prefixes, picks the id column and says why each other column is left out', () => {
    const { study, summary } = draftStudy(readCsv(panel(), 'site.csv'), 'site.csv', { target: 'ic50_a', name: 'draft' });
    expect(study.idColumn).toBe('sample');
    expect(study.groups).toEqual([
      { kind: 'numeric', match: '^expr_' },
      { kind: 'binary', match: '^mut_' },
    ]);
    expect(study.features).toEqual([
      // Most frequent level first (7 lung, 7 skin, 6 blood; ties by name): the reference level.
      { kind: 'categorical', name: 'tissue', levels: ['lung', 'skin', 'blood'] },
      // Seen 31–49 (5 rows empty): widened by the span 18 each side, rounded outward to tens.
      { kind: 'numeric', name: 'age', min: 10, max: 70, missing: 'mean' },
    ]);
    expect(summary.leftOut).toEqual([
      { column: 'name', reason: 'a different value in every row: an identifier, not an input' },
      { column: 'batch', reason: 'one value in every row' },
      { column: 'ic50_b', reason: 'shares the target\'s prefix "ic50_": another outcome, not an input' },
      { column: 'free_text', reason: 'text with 15 distinct values: too many levels for a category (at most 12)' },
    ]);
    // expr_G4 is constant here too ((5i mod 5) = 0) but stays in its group: the run drops it only if it is constant at every site.
    expect(summary.constant).toEqual(['batch', 'expr_G4']);
    expect(summary.groups[0]).toEqual({ match: '^expr_', kind: 'numeric', columns: 6, constant: 1, withMissing: 0 });
    expect(summary.kinds).toEqual({ numeric: 7, binary: 5, categorical: 1 });
    expect(summary.inputs).toBe(6 + 5 + 2 + 1);
    // Seen −2 to 2.75: widened by the span 4.75 each side, rounded outward to units.
    expect(study.target).toEqual({ name: 'ic50_a', transform: 'identity', min: -7, max: 8 });
    expect(study.model).toEqual({ type: 'linear', l2: 'auto' }); // 14 inputs for 20 rows
    expect(matchGroups(study, readCsv(panel(), 'site.csv').header).map((g) => g.length)).toEqual([6, 5]);
  });

  it('proposes a plain linear model when the rows far outnumber the inputs', () => {
    const { study } = draftStudy(readCsv(panel(200), 'site.csv'), 'site.csv', { target: 'ic50_a', name: 'draft' });
    expect(study.model).toEqual({ type: 'linear' });
  });

  it('honours --id, --ignore and --task', () => {
    const { study, summary } = draftStudy(readCsv(panel(), 'site.csv'), 'site.csv', { target: 'tissue', idColumn: 'name', ignore: ['age', 'sample'], task: 'classification', name: 'd' });
    expect(study.idColumn).toBe('name');
    expect(study.target).toEqual({ name: 'tissue', classes: ['blood', 'lung', 'skin'] });
    expect(summary.leftOut).toContainEqual({ column: 'age', reason: 'ignored (--ignore)' });
    expect(summary.leftOut).toContainEqual({ column: 'sample', reason: 'ignored (--ignore)' });
  });

  it('refuses a target or option column the file lacks, naming it', () => {
    const csv = (): ReturnType<typeof readCsv> => readCsv(panel(), 'site.csv');
    expect(() => draftStudy(csv(), 'site.csv', { target: 'dose', name: 'd' })).toThrow(expect.objectContaining({ code: 'E_BAD_REQUEST', message: 'site.csv has no column "dose" (the --target)' }));
    expect(() => draftStudy(csv(), 'site.csv', { target: 'ic50_a', ignore: ['nope'], name: 'd' })).toThrow('site.csv has no column "nope" (in --ignore)');
    expect(() => draftStudy(csv(), 'site.csv', { target: 'name', task: 'regression', name: 'd' })).toThrow(/holds text: use --task classification/);
    expect(() => draftStudy(csv(), 'site.csv', { target: 'age', task: 'classification', name: 'd' })).toThrow(/numeric with more than two values: use --task regression/);
    expect(draftStudy(csv(), 'site.csv', { target: 'mut_G0', name: 'd' }).study.target).toEqual({ name: 'mut_G0', classes: ['0', '1'] });
  });

  it('writes YAML that loads as the same study', () => {
    const { study, summary } = draftStudy(readCsv(panel(), 'site.csv'), 'site.csv', { target: 'ic50_a', name: 'draft' });
    const text = studyYaml(study, summary);
    expect(checkStudy(parse(text), 'yaml')).toEqual(study);
    expect(text).toContain('# Left out (4 columns):');
  });

  it('helpers: prefixes end at the first separator; ranges widen by their span on both sides, below 0 too', () => {
    expect(['expr_TP53', 'ln_ic50_x', 'cnv.MYC', 'age', '_x', 'expr_'].map(namePrefix)).toEqual(['expr_', 'ln_', 'cnv.', null, null, null]);
    expect(widenedRange(30, 49)).toEqual({ min: 10, max: 70 });
    expect(widenedRange(3, 49)).toEqual({ min: -50, max: 100 });
    // A log IC50 all positive at the drafting site is negative at others: the bound must allow it.
    expect(widenedRange(0.5, 7.5).min).toBeLessThan(-6);
    expect(widenedRange(-2, 2.5)).toEqual({ min: -7, max: 7 });
    expect(widenedRange(5, 5)).toEqual({ min: 0, max: 10 });
  });
});

const GDSC = new URL('../../../shared/datasets/gdsc2/gdsc2_cell_lines.csv', import.meta.url).pathname;

describe.skipIf(!existsSync(GDSC))('draftStudy on the GDSC2 panel (../shared/datasets/gdsc2)', () => {
  it('2,118 gene columns fit in three groups; ids, wide text and the other drugs are left out with reasons', () => {
    const { study, summary } = draftStudy(readCsv(readFileSync(GDSC, 'utf8'), 'gdsc2_cell_lines.csv'), 'gdsc2_cell_lines.csv', { target: 'ln_ic50_Afatinib', name: 'gdsc2' });
    expect(study.groups).toEqual([
      { kind: 'numeric', match: '^expr_' },
      { kind: 'binary', match: '^mut_' },
      { kind: 'numeric', match: '^cnv_' },
    ]);
    expect(study.features).toEqual([]);
    expect(study.idColumn).toBe('depmap_id');
    expect(summary.inputs).toBe(2118);
    expect(study.model).toEqual({ type: 'linear', l2: 'auto' });
    expect(summary.leftOut.map((l) => l.column).sort()).toEqual(
      ['cell_line_name', 'lineage', 'primary_disease', 'site', ...['Lapatinib', 'Olaparib', 'Docetaxel', 'Camptothecin', 'Alpelisib'].map((d) => `ln_ic50_${d}`)].sort(),
    );
    expect(studyYaml(study, summary).split('\n').length).toBeLessThan(40);
  });
});
