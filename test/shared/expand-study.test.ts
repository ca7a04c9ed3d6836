import { describe, expect, it } from 'vitest';
import { expandStudy, matchGroups, nameSome, runStudy } from '../../shared/expand-study.js';
import { extractRow } from '../../shared/extract.js';
import { inputColumns, inputDim, type Study } from '../../shared/study.js';

const study: Study = {
  name: 'genes',
  task: 'regression',
  idColumn: 'expr_id',
  features: [{ kind: 'numeric', name: 'age', min: 0, max: 120 }],
  groups: [
    { kind: 'numeric', match: '^expr_', missing: 'mean' },
    { kind: 'binary', match: '^mut_' },
  ],
  target: { name: 'expr_target', transform: 'identity', min: -10, max: 10 },
  model: { type: 'linear', l2: 'auto' },
  holdout: { fraction: 0.2, seed: 1 },
};
const header = ['expr_id', 'age', 'mut_TP53', 'expr_TP53', 'expr_target', 'expr_BRCA1', 'mut_KRAS', 'notes'];

describe('matchGroups', () => {
  it('gives each group its columns in CSV order, never the target or the id column', () => {
    expect(matchGroups(study, header)).toEqual([
      ['expr_TP53', 'expr_BRCA1'],
      ['mut_TP53', 'mut_KRAS'],
    ]);
  });

  it('a pattern that matches no column is E_GROUP_NO_MATCH naming the pattern', () => {
    const s: Study = { ...study, groups: [...study.groups!, { kind: 'numeric', match: '^cnv_' }] };
    expect(() => matchGroups(s, header)).toThrow(
      expect.objectContaining({ code: 'E_GROUP_NO_MATCH', message: 'numeric group /^cnv_/ matches no column of the CSV (8 columns)' }),
    );
  });

  it('two groups that claim the same column are E_GROUP_OVERLAP naming the column and both groups', () => {
    const s: Study = { ...study, groups: [...study.groups!, { kind: 'numeric', match: 'TP53$' }] };
    expect(() => matchGroups(s, header)).toThrow(expect.objectContaining({ code: 'E_GROUP_OVERLAP' }));
    expect(() => matchGroups(s, header)).toThrow(
      '2 columns are claimed twice: "mut_TP53" (binary group /^mut_/ and numeric group /TP53$/), "expr_TP53" (numeric group /^expr_/ and numeric group /TP53$/). Make the patterns exclusive.',
    );
  });

  it('a group may not claim a column a named feature reads', () => {
    const s: Study = { ...study, features: [...study.features, { kind: 'numeric', name: 'brca', column: 'expr_BRCA1' }] };
    expect(() => matchGroups(s, header)).toThrow(/"expr_BRCA1" \(feature "brca" and numeric group \/\^expr_\/\)/);
  });
});

describe('expandStudy', () => {
  it('appends one feature per column after the named features, with the group settings', () => {
    const e = expandStudy(study, [['expr_BRCA1', 'expr_TP53'], ['mut_KRAS']]);
    expect(e.groups).toBeUndefined();
    expect(e.features).toEqual([
      { kind: 'numeric', name: 'age', min: 0, max: 120 },
      { kind: 'numeric', name: 'expr_BRCA1', missing: 'mean' },
      { kind: 'numeric', name: 'expr_TP53', missing: 'mean' },
      { kind: 'binary', name: 'mut_KRAS' },
    ]);
    expect(inputDim(e)).toBe(4);
    expect(inputColumns(e)).toEqual(['age', 'expr_BRCA1', 'expr_TP53', 'mut_KRAS']);
    const row = extractRow(e, { age: '50', expr_BRCA1: '', expr_TP53: '1.5', mut_KRAS: '1', expr_target: '2' });
    expect(row).toEqual({ values: Float64Array.from([50, Number.NaN, 1.5, 1]), target: 2 });
  });

  it('a study with groups has no width until expanded: using it as one is a loud internal error', () => {
    expect(() => inputDim(study)).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
    expect(() => runStudy(study, {})).toThrow(/fixed no input list/);
    expect(runStudy(study, { inputs: { groups: [['expr_TP53'], ['mut_KRAS']], dropped: [] } }).features.map((f) => f.name)).toEqual(['age', 'expr_TP53', 'mut_KRAS']);
  });

  it('names a few columns of a long list and counts the rest', () => {
    expect(nameSome(['a', 'b', 'c'], 2)).toBe('"a", "b" and 1 more');
    expect(nameSome(['a'])).toBe('"a"');
  });
});
