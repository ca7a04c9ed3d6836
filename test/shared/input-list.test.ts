import { describe, expect, it } from 'vitest';
import { expandStudy } from '../../shared/expand-study.js';
import { extractRow, type ExtractedRow } from '../../shared/extract.js';
import { hashPreprocessing, statsOf, type FeatureStats } from '../../shared/feature-stats.js';
import { checkSiteStats, fixInputList, runPreprocessing } from '../../shared/input-list.js';
import { encodeQuery } from '../../shared/preprocess.js';
import type { Study } from '../../shared/study.js';
import { PreprocessingSchema } from '../../shared/run-config.js';
import { expectSchema, StatsReportSchema } from '../../shared/wire.js';

const study: Study = {
  name: 'genes',
  task: 'regression',
  features: [],
  groups: [
    { kind: 'numeric', match: '^g_', missing: 'mean' },
    { kind: 'binary', match: '^m_' },
  ],
  target: { name: 'y', transform: 'identity', min: -100, max: 100 },
  model: { type: 'linear', l2: 'auto' },
  holdout: { fraction: 0.2, seed: 1 },
};

/** A site's statistics over `records`, keyed by the columns its groups take in `header`. */
function site(columns: string[][], records: Record<string, string>[]): { stats: FeatureStats; columns: string[][] } {
  const s = expandStudy(study, columns);
  const rows = records.map((r) => extractRow(s, r) as ExtractedRow);
  return { stats: statsOf(s, rows), columns };
}

// Site A has g_b, g_a, g_only_a, g_const and m_1, m_0; site B has g_a, g_b, g_const and m_1, m_0.
// g_const is 5 everywhere; m_0 is 0 everywhere.
const a = site(
  [['g_b', 'g_a', 'g_only_a', 'g_const'], ['m_1', 'm_0']],
  [
    { g_b: '1', g_a: '2', g_only_a: '7', g_const: '5', m_1: '1', m_0: '0', y: '1' },
    { g_b: '3', g_a: '', g_only_a: '8', g_const: '5', m_1: '0', m_0: '0', y: '2' },
  ],
);
const b = site(
  [['g_a', 'g_b', 'g_const'], ['m_0', 'm_1']],
  [
    { g_a: '4', g_b: '5', g_const: '5', m_1: '1', m_0: '0', y: '3' },
    { g_a: '6', g_b: '7', g_const: '5', m_1: '1', m_0: '0', y: '4' },
  ],
);

describe('fixInputList', () => {
  it('keeps the columns every site has, sorted; records the others and the constant ones with their reasons', () => {
    const fixed = fixInputList(study, [a, b]);
    expect(fixed.inputs).toEqual({
      groups: [['g_a', 'g_b'], ['m_1']],
      dropped: [
        { column: 'g_const', reason: 'constant over all sites' },
        { column: 'g_only_a', reason: 'matched at 1 of 2 sites' },
        { column: 'm_0', reason: 'constant over all sites' },
      ],
    });
    expect(fixed.study.features.map((f) => f.name)).toEqual(['g_a', 'g_b', 'm_1']);
    // The pooled moments: g_a has 3 values (one missing), 2 + 4 + 6.
    expect(fixed.merged.numeric.g_a).toEqual({ count: 3, sum: 12, sumSq: 56 });
    expect(fixed.merged.levels.m_1).toEqual([1, 3]);
    expect(fixed.merged.rows).toBe(4);
  });

  it('a group left with no column fails the round with E_GROUP_NO_MATCH naming it', () => {
    const c = site([['g_a'], ['m_0']], [{ g_a: '1', m_0: '0', y: '1' }]);
    expect(() => fixInputList(study, [b, c])).toThrow(expect.objectContaining({ code: 'E_GROUP_NO_MATCH', message: expect.stringMatching(/^binary group \/\^m_\/: no column/) }));
  });
});

describe('runPreprocessing', () => {
  it('standardises by the pooled moments and keeps the input list inside the preprocessing, so its hash covers the list', () => {
    const { study: run, prep } = runPreprocessing(study, [a, b]);
    expect(prep.numeric.g_a).toEqual({ mean: 4, sd: Math.sqrt(56 / 3 - 16) });
    expect(prep.numeric.g_const).toBeUndefined(); // dropped, never divided by its zero SD
    expect(prep.inputs!.groups).toEqual([['g_a', 'g_b'], ['m_1']]);
    expectSchema(PreprocessingSchema, prep, 'E_INTERNAL', 'preprocessing');
    const other = { ...prep, inputs: { ...prep.inputs!, groups: [['g_b', 'g_a'], ['m_1']] } };
    expect(hashPreprocessing(other)).not.toBe(hashPreprocessing(prep));
    // A query builds its vector in the list's order.
    const x = encodeQuery(run, prep, { g_a: '4', g_b: '4', m_1: '1', g_const: '5' });
    expect([...x]).toEqual([0, Math.fround((4 - prep.numeric.g_b!.mean) / prep.numeric.g_b!.sd), 1]);
  });
});

describe('checkSiteStats', () => {
  it('reads the columns each group took off the report keys', () => {
    expect(checkSiteStats(study, a.stats)).toEqual([['g_b', 'g_a', 'g_only_a', 'g_const'], ['m_1', 'm_0']]);
  });

  it('refuses a key no group explains, and a numeric key reported as levels (attacker-controlled reports)', () => {
    const stray = { ...a.stats, numeric: { ...a.stats.numeric, x_other: { count: 1, sum: 1, sumSq: 1 } } };
    expect(() => checkSiteStats(study, stray)).toThrow(expect.objectContaining({ code: 'E_BAD_MESSAGE', message: expect.stringContaining('"x_other" is claimed by 0 feature groups') }));
    const asLevels = { ...a.stats, levels: { ...a.stats.levels, g_z: [1, 1] } };
    expect(() => checkSiteStats(study, asLevels)).toThrow(/"g_z" is claimed by 0 feature groups/);
    const badCounts = { ...a.stats, levels: { ...a.stats.levels, m_1: [5, 5] } };
    expect(() => checkSiteStats(study, badCounts)).toThrow(/counts do not add up/);
  });
});

describe('at 50,000 inputs', () => {
  it('a stats report and the preprocessing pass their wire schemas', () => {
    const columns = Array.from({ length: 50_000 }, (_, j) => `g_${j}`);
    const numeric = Object.fromEntries(columns.map((c, j) => [c, { count: 2, sum: j, sumSq: j * j + 1 }]));
    const stats: FeatureStats = { rows: 2, numeric, levels: { m_1: [1, 1] }, target: { count: 2, sum: 1, sumSq: 1 } };
    const report = { type: 'stats-report', v: 1, runId: 'run-1', stats, signature: '0'.repeat(128) };
    expect(() => expectSchema(StatsReportSchema, report, 'E_BAD_MESSAGE', 'report')).not.toThrow();
    expect(checkSiteStats(study, stats)[0]).toHaveLength(50_000);
    const { prep } = runPreprocessing(study, [{ stats, columns: [columns, ['m_1']] }]);
    expect(prep.inputs!.groups[0]).toHaveLength(50_000);
    expect(() => expectSchema(PreprocessingSchema, prep, 'E_INTERNAL', 'preprocessing')).not.toThrow();
  });
});
