import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSiteCsvs, type GeneratedSite } from '../../datasets/generate.js';
import { FedrxError } from '../../shared/errors.js';
import type { ExtractedRow } from '../../shared/extract.js';
import {
  checkStats,
  emptyStats,
  hashJson,
  hashPreprocessing,
  hashStats,
  mergeStats,
  preprocessingFrom,
  standardiser,
  statsOf,
  type FeatureStats,
  type Moments,
  type Preprocessing,
} from '../../shared/feature-stats.js';
import { loadStudyFile } from '../../shared/load-study.js';
import { isLevelFeature, type Study } from '../../shared/study.js';
import { loadSiteRows, type SiteRows } from '../../site-agent/local-data.js';

/** Numeric with a missing value, a 3-level categorical, a binary, a regression target. */
const SMALL: Study = {
  name: 'small',
  task: 'regression',
  features: [
    { kind: 'numeric', name: 'a', min: -10, max: 10, missing: 'mean' },
    { kind: 'categorical', name: 'g', levels: ['x', 'y', 'z'] },
    { kind: 'binary', name: 'b' },
  ],
  target: { name: 't', transform: 'identity', min: 0, max: 10 },
  model: { type: 'linear' },
  holdout: { fraction: 0.2, seed: 1 },
};

const row = (values: number[], target: number): ExtractedRow => ({ values: Float64Array.from(values), target });
const THREE = [row([1, 0, 1], 2), row([2, 2, 0], 3), row([Number.NaN, 2, 1], 5)];

function relClose(got: number, want: number, what: string): void {
  const rel = Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);
  if (!(rel <= 1e-9)) throw new Error(`${what}: ${got} vs ${want} (relative ${rel})`);
}

function refusal(study: Study, s: FeatureStats): FedrxError {
  try {
    checkStats(study, s);
  } catch (e) {
    if (e instanceof FedrxError) return e;
    throw e;
  }
  throw new Error('expected checkStats to refuse');
}

describe('statsOf', () => {
  it('hand-worked on three rows', () => {
    expect(statsOf(SMALL, THREE)).toEqual({
      rows: 3,
      numeric: { a: { count: 2, sum: 3, sumSq: 5 } }, // the NaN (imputed) value is not counted
      levels: { g: [1, 0, 2], b: [1, 2] }, // binary: [zeros, ones]
      target: { count: 3, sum: 10, sumSq: 38 },
    });
    // mean 1.5, SD √(5/2 − 1.5²) = 0.5; target mean 10/3, SD √(38/3 − 100/9) = √14 / 3.
    const prep = preprocessingFrom(SMALL, statsOf(SMALL, THREE));
    expect(prep.rows).toBe(3);
    expect(prep.numeric).toEqual({ a: { mean: 1.5, sd: 0.5 } });
    expect(prep.target!.mean).toBeCloseTo(10 / 3, 14);
    expect(prep.target!.sd).toBeCloseTo(Math.sqrt(14) / 3, 14);
  });

  it('counts classes for a classification target', () => {
    const study: Study = { ...SMALL, task: 'classification', target: { name: 'c', classes: ['no', 'yes', 'maybe'] } };
    const s = statsOf(study, [row([1, 0, 0], 2), row([1, 0, 0], 0), row([1, 0, 0], 2)]);
    expect(s.target).toEqual([1, 0, 2]);
    expect(preprocessingFrom(study, s).target).toBeUndefined();
  });

  it('no rows: zero counts, and a standardiser that leaves values alone', () => {
    expect(statsOf(SMALL, [])).toEqual(emptyStats(SMALL));
    expect(standardiser({ count: 0, sum: 0, sumSq: 0 })).toEqual({ mean: 0, sd: 1 });
  });
});

describe('mergeStats', () => {
  it('per-site statistics merged equal the statistics of the pooled rows', () => {
    const sites = [THREE, [row([-4, 1, 0], 7), row([0.5, 1, 1], 1)], [row([Number.NaN, 0, 0], 9)]];
    const merged = mergeStats(SMALL, sites.map((rows) => statsOf(SMALL, rows)));
    expect(merged).toEqual(statsOf(SMALL, sites.flat()));
    expect(merged.rows).toBe(6);
    expect(merged.levels.g).toEqual([2, 2, 2]);
    expect(hashStats(merged)).toBe(hashStats(statsOf(SMALL, sites.flat())));
  });

  it('leaves its inputs unchanged and merges nothing into empty statistics', () => {
    const a = statsOf(SMALL, THREE);
    const copy = structuredClone(a);
    mergeStats(SMALL, [a, a]);
    expect(a).toEqual(copy);
    expect(mergeStats(SMALL, [])).toEqual(emptyStats(SMALL));
  });
});

describe('federated statistics of 5 synthetic sites equal the pooled statistics', () => {
  const STUDY_PATH = fileURLToPath(new URL('../../datasets/studies/synthetic-warfarin.json', import.meta.url));
  const study = loadStudyFile(STUDY_PATH);
  const dir = mkdtempSync(join(tmpdir(), 'fedrx-stats-'));
  let sites: GeneratedSite[];
  let siteRows: SiteRows[];
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    sites = await generateSiteCsvs({ sites: 5, outDir: dir, seed: 'feature-stats-test' });
    siteRows = await Promise.all(sites.map((s) => loadSiteRows(s.file, study, { siteId: s.siteId })));
  });

  it('every site reads all its generated rows', () => {
    expect(sites.length).toBe(5);
    siteRows.forEach((r, i) => {
      expect(r.totalRows).toBe(sites[i]!.rows);
      expect(r.dropped).toEqual({});
      expect(r.train.length + r.calibration.length + r.test.length).toBe(sites[i]!.rows);
    });
  });

  it('merged means and SDs match pooled and two-pass values to 1e-9; every count exactly', () => {
    const perSite = siteRows.map((r) => statsOf(study, r.train));
    for (const s of perSite) checkStats(study, s); // what the coordinator checks on arrival
    const merged = mergeStats(study, perSite);
    const pooledRows = siteRows.flatMap((r) => r.train);
    const pooled = statsOf(study, pooledRows);

    expect(merged.rows).toBe(pooledRows.length);
    expect(merged.rows).toBe(siteRows.reduce((n, r) => n + r.train.length, 0));
    expect(merged.levels).toEqual(pooled.levels);

    // Two passes straight over the pooled raw values: mean, then mean squared deviation.
    const twoPass = (xs: number[]): { n: number; mean: number; sd: number } => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return { n: xs.length, mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
    };
    const check = (what: string, m: Moments, p: Moments, xs: number[]): void => {
      const direct = twoPass(xs);
      expect(m.count).toBe(direct.n);
      expect(p.count).toBe(direct.n);
      const [sm, sp] = [standardiser(m), standardiser(p)];
      relClose(sm.mean, direct.mean, `${what} merged mean`);
      relClose(sp.mean, direct.mean, `${what} pooled mean`);
      relClose(sm.sd, direct.sd, `${what} merged SD`);
      relClose(sp.sd, direct.sd, `${what} pooled SD`);
      expect(direct.sd).toBeGreaterThan(0.1); // real spread: the comparison is not vacuous
    };
    study.features.forEach((f, i) => {
      const xs = pooledRows.map((r) => r.values[i]!);
      if (f.kind === 'numeric') {
        check(f.name, merged.numeric[f.name]!, pooled.numeric[f.name]!, xs.filter((x) => !Number.isNaN(x)));
      } else {
        // Level counts counted directly from the pooled values.
        const k = isLevelFeature(f) ? f.levels.length : 2;
        const direct = Array.from({ length: k }, (_, level) => xs.filter((x) => x === level).length);
        expect(merged.levels[f.name]).toEqual(direct);
        expect(direct.reduce((a, b) => a + b, 0)).toBe(merged.rows);
      }
    });
    check('target', merged.target as Moments, pooled.target as Moments, pooledRows.map((r) => r.target));

    // The run preprocessing from the merged statistics is the pooled one, to 1e-9.
    const [pm, pp] = [preprocessingFrom(study, merged), preprocessingFrom(study, pooled)];
    for (const name of Object.keys(pp.numeric)) {
      relClose(pm.numeric[name]!.mean, pp.numeric[name]!.mean, `${name} mean`);
      relClose(pm.numeric[name]!.sd, pp.numeric[name]!.sd, `${name} SD`);
    }
    relClose(pm.target!.mean, pp.target!.mean, 'target mean');
    relClose(pm.target!.sd, pp.target!.sd, 'target SD');

    // Not vacuous: the sites differ (non-IID ancestry mixes), so the merge does real work.
    const white = perSite.map((s) => s.levels.ancestry![0]! / s.rows);
    expect(Math.max(...white) - Math.min(...white)).toBeGreaterThan(0.05);
    expect(merged.levels.cyp2c9![6]).toBeGreaterThan(0); // some missing genotypes, counted as unknown
  });
});

describe('checkStats', () => {
  const good = (): FeatureStats => structuredClone(statsOf(SMALL, THREE));

  it('accepts statistics that fit the study', () => {
    expect(() => checkStats(SMALL, good())).not.toThrow();
    expect(() => checkStats(SMALL, emptyStats(SMALL))).not.toThrow();
  });

  it('refuses a wrong number of levels', () => {
    const s = good();
    s.levels.g = [1, 2];
    const e = refusal(SMALL, s);
    expect(e.code).toBe('E_BAD_MESSAGE');
    expect(e.message).toContain('feature g has 2 levels');
    const b = good();
    b.levels.b = [1, 1, 1];
    expect(refusal(SMALL, b).message).toContain('feature b has 3 levels');
  });

  it('refuses counts that do not add up', () => {
    const s = good();
    s.levels.g = [1, 1, 2]; // 4 of 3 rows
    expect(refusal(SMALL, s).message).toContain('feature g counts do not add up to the rows');
    const n = good();
    n.numeric.a!.count = 4;
    expect(refusal(SMALL, n).message).toContain('feature a counts more values than rows');
    const t = good();
    (t.target as Moments).count = 2;
    expect(refusal(SMALL, t).message).toContain('target counts do not add up');
    const classification: Study = { ...SMALL, task: 'classification', target: { name: 'c', classes: ['no', 'yes'] } };
    const c = statsOf(classification, THREE.map((r) => ({ ...r, target: 1 })));
    expect(() => checkStats(classification, c)).not.toThrow();
    c.target = [0, 2];
    expect(refusal(classification, c).message).toContain('target counts do not add up');
  });

  it('refuses unknown, missing or renamed feature names', () => {
    const extra = good();
    extra.numeric.height = { count: 0, sum: 0, sumSq: 0 };
    expect(refusal(SMALL, extra).message).toContain('numeric features differ');
    const renamed = good();
    renamed.levels = { g: renamed.levels.g!, bb: renamed.levels.b! };
    expect(refusal(SMALL, renamed).message).toContain('level features differ');
    const missing = good();
    missing.numeric = {};
    expect(refusal(SMALL, missing).message).toContain('numeric features differ');
    // Two features "a" and "b" must not be matched by one key "a,b".
    const two: Study = { ...SMALL, features: [SMALL.features[0]!, { ...SMALL.features[0]!, name: 'b' }, SMALL.features[1]!] };
    const joined = statsOf(two, [row([1, 2, 0], 1)]);
    joined.numeric = { 'a,b': joined.numeric.a! };
    expect(refusal(two, joined).message).toContain('numeric features differ');
  });

  it('refuses a target of the other kind or with other classes', () => {
    const t = good();
    t.target = [3];
    expect(refusal(SMALL, t).message).toContain('target kind differs');
    const classification: Study = { ...SMALL, task: 'classification', target: { name: 'c', classes: ['no', 'yes'] } };
    const c = statsOf(classification, THREE.map((r) => ({ ...r, target: 1 })));
    c.target = [0, 3, 0];
    expect(refusal(classification, c).message).toContain('target classes differ');
  });
});

describe('preprocessingFrom', () => {
  it('honours a fixed center and scale, per feature and for the target', () => {
    const fixed: Study = {
      ...SMALL,
      features: [
        { kind: 'numeric', name: 'a', min: -10, max: 10, center: 62, scale: 14 },
        { kind: 'numeric', name: 'c', min: -10, max: 10, center: 1 }, // scale from the statistics
        { kind: 'binary', name: 'b' },
      ],
      target: { name: 't', transform: 'sqrt', min: 0, max: 10, center: 5.6, scale: 1.3 },
    };
    const s = statsOf(fixed, [row([1, 2, 0], 4), row([3, 6, 1], 9)]);
    expect(preprocessingFrom(fixed, s)).toEqual({
      rows: 2,
      numeric: { a: { mean: 62, sd: 14 }, c: { mean: 1, sd: 2 } }, // c: SD of 2 and 6 is 2
      target: { mean: 5.6, sd: 1.3 },
    });
    // Fully fixed: the same preprocessing from no statistics at all.
    const allFixed: Study = { ...fixed, features: [fixed.features[0]!, fixed.features[2]!] };
    expect(preprocessingFrom(allFixed, emptyStats(allFixed))).toEqual({ rows: 0, numeric: { a: { mean: 62, sd: 14 } }, target: { mean: 5.6, sd: 1.3 } });
  });

  it('gives SD 1 to a constant column (rounding in sumSq/n − mean² is not spread)', () => {
    for (const c of [62.3, 0.1, 3.3, 168.7, 0]) {
      for (const n of [3, 10, 1000]) {
        const rows = Array.from({ length: n }, () => row([c, 0, 0], c / 10));
        const sd = preprocessingFrom(SMALL, statsOf(SMALL, rows)).numeric.a!.sd;
        expect([c, n, sd]).toEqual([c, n, 1]);
      }
    }
    // A small but real spread keeps its SD.
    const spread = preprocessingFrom(SMALL, statsOf(SMALL, [row([62.3, 0, 0], 1), row([62.31, 0, 0], 1)]));
    expect(spread.numeric.a!.sd).toBeCloseTo(0.005, 8);
  });
});

describe('hashes', () => {
  it('hash content, not key order; a changed number changes the hash', () => {
    const p: Preprocessing = { rows: 3, numeric: { a: { mean: 1.5, sd: 0.5 }, c: { mean: 0, sd: 1 } }, target: { mean: 2, sd: 1 } };
    const reordered: Preprocessing = { target: { sd: 1, mean: 2 }, numeric: { c: { sd: 1, mean: 0 }, a: { sd: 0.5, mean: 1.5 } }, rows: 3 };
    expect(hashPreprocessing(reordered)).toBe(hashPreprocessing(p));
    expect(hashPreprocessing(p)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashPreprocessing({ ...p, numeric: { ...p.numeric, a: { mean: 1.5, sd: 0.5000001 } } })).not.toBe(hashPreprocessing(p));
    // Domain-separated: statistics and preprocessing never share a hash.
    const s = statsOf(SMALL, THREE);
    expect(hashStats(s)).toBe(hashJson('fedrx/feature-stats/v1', s));
    expect(hashStats(s)).not.toBe(hashJson('fedrx/preprocessing/v1', s));
  });
});
