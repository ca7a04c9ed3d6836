// Federated statistics: each site sums its own rows (counts, sums, sums of squares, level
// counts: never a row), the coordinator adds the sums up and fixes the run's preprocessing from
// them. Addition is exact up to float rounding, so the result equals the pooled statistics.

import { Type, type Static } from '@sinclair/typebox';
import { canonicalJson } from './canonical-json.js';
import { createHash } from 'node:crypto';
import { FedrxError } from './errors.js';
import type { ExtractedRow } from './extract.js';
import type { InputList } from './expand-study.js';
import { isLevelFeature, isRegression, MAX_INPUT_FEATURES, MAX_STUDY_FEATURES, type ClassificationTarget, type Study } from './study.js';

const Count = Type.Integer({ minimum: 0 });
const Moments = Type.Object({ count: Count, sum: Type.Number(), sumSq: Type.Number({ minimum: 0 }) }, { additionalProperties: false });
export type Moments = Static<typeof Moments>;

/** A report holds at most one entry per model input a study may expand to, plus its named features. */
const MAX_STATS_KEYS = MAX_INPUT_FEATURES + MAX_STUDY_FEATURES;

/** One site's (or the merged) statistics. Attacker-controlled when it arrives: checked by `checkStats`. */
export const FeatureStatsSchema = Type.Object(
  {
    rows: Count,
    /** Per numeric feature: moments over its non-missing values. */
    numeric: Type.Record(Type.String(), Moments, { maxProperties: MAX_STATS_KEYS }),
    /** Per level or binary feature: rows per level (binary: [zeros, ones]). */
    levels: Type.Record(Type.String(), Type.Array(Count, { maxItems: 256 }), { maxProperties: MAX_STATS_KEYS }),
    /** Regression: moments of the transformed target. Classification: rows per class. */
    target: Type.Union([Moments, Type.Array(Count, { maxItems: 256 })]),
  },
  { additionalProperties: false },
);
export type FeatureStats = Static<typeof FeatureStatsSchema>;

const emptyMoments = (): Moments => ({ count: 0, sum: 0, sumSq: 0 });
const levelCount = (study: Study, i: number): number => {
  const f = study.features[i]!;
  return isLevelFeature(f) ? f.levels.length : 2;
};

export function emptyStats(study: Study): FeatureStats {
  const numeric: Record<string, Moments> = {};
  const levels: Record<string, number[]> = {};
  study.features.forEach((f, i) => {
    if (f.kind === 'numeric') numeric[f.name] = emptyMoments();
    else levels[f.name] = new Array<number>(levelCount(study, i)).fill(0);
  });
  const target = isRegression(study) ? emptyMoments() : new Array<number>((study.target as ClassificationTarget).classes.length).fill(0);
  return { rows: 0, numeric, levels, target };
}

export function statsOf(study: Study, rows: Iterable<ExtractedRow>): FeatureStats {
  const s = emptyStats(study);
  // Each feature's slot looked up once, not once per row: wide studies have 50,000 of them.
  const moments = study.features.map((f) => (f.kind === 'numeric' ? s.numeric[f.name]! : null));
  const counts = study.features.map((f) => (f.kind === 'numeric' ? null : s.levels[f.name]!));
  const n = study.features.length;
  for (const row of rows) {
    s.rows++;
    for (let i = 0; i < n; i++) {
      const v = row.values[i]!;
      const m = moments[i];
      if (m === null || m === undefined) {
        counts[i]![v]!++;
      } else if (!Number.isNaN(v)) {
        m.count++;
        m.sum += v;
        m.sumSq += v * v;
      }
    }
    if (Array.isArray(s.target)) s.target[row.target]!++;
    else {
      s.target.count++;
      s.target.sum += row.target;
      s.target.sumSq += row.target * row.target;
    }
  }
  return s;
}

/** Checks a site's report fits the study (names, level counts, consistent counts). */
export function checkStats(study: Study, s: FeatureStats): void {
  const bad = (why: string): never => {
    throw new FedrxError('E_BAD_MESSAGE', `statistics do not fit study ${study.name}: ${why}`);
  };
  const e = emptyStats(study);
  // Compared as lists, not joined strings: a report keyed "a,b" must not pass for features a and b.
  const sameNames = (a: object, b: object): boolean => JSON.stringify(Object.keys(a).sort()) === JSON.stringify(Object.keys(b).sort());
  if (!sameNames(s.numeric, e.numeric)) bad('numeric features differ');
  if (!sameNames(s.levels, e.levels)) bad('level features differ');
  for (const [name, counts] of Object.entries(s.levels)) {
    if (counts.length !== e.levels[name]!.length) bad(`feature ${name} has ${counts.length} levels`);
    if (counts.reduce((a, b) => a + b, 0) !== s.rows) bad(`feature ${name} counts do not add up to the rows`);
  }
  for (const [name, m] of Object.entries(s.numeric)) if (m.count > s.rows) bad(`feature ${name} counts more values than rows`);
  if (Array.isArray(s.target) !== Array.isArray(e.target)) bad('target kind differs');
  if (Array.isArray(s.target) && s.target.length !== (e.target as number[]).length) bad('target classes differ');
  // Every usable row has a target.
  const targetRows = Array.isArray(s.target) ? s.target.reduce((a, b) => a + b, 0) : s.target.count;
  if (targetRows !== s.rows) bad('target counts do not add up to the rows');
}

function addMoments(a: Moments, b: Moments): Moments {
  return { count: a.count + b.count, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}

export function mergeStats(study: Study, parts: readonly FeatureStats[]): FeatureStats {
  const out = emptyStats(study);
  for (const p of parts) {
    out.rows += p.rows;
    for (const name of Object.keys(out.numeric)) out.numeric[name] = addMoments(out.numeric[name]!, p.numeric[name]!);
    for (const name of Object.keys(out.levels)) out.levels[name] = out.levels[name]!.map((c, i) => c + p.levels[name]![i]!);
    out.target = Array.isArray(out.target)
      ? out.target.map((c, i) => c + (p.target as number[])[i]!)
      : addMoments(out.target, p.target as Moments);
  }
  return out;
}

export interface Standardiser {
  mean: number;
  sd: number;
}

/** The preprocessing every site applies in a run: fixed once from the merged statistics. */
export interface Preprocessing {
  rows: number;
  numeric: Record<string, Standardiser>;
  /** Regression only: standardisation of the transformed target. */
  target?: Standardiser;
  /** Studies with feature groups: the expanded input list the run fixed (shared/input-list.ts). */
  inputs?: InputList;
}

/** Population variance, or null for no values or a constant column. */
function variance(m: Moments): number | null {
  if (m.count === 0) return null;
  const mean = m.sum / m.count;
  const meanSq = m.sumSq / m.count;
  const v = meanSq - mean * mean;
  // sumSq/n − mean² carries rounding of order n·ε·meanSq: a constant 62.3 leaves ~1e-12 here, so
  // a variance that small relative to meanSq is a constant column, not a tiny SD.
  return v > 1e-9 * meanSq ? v : null;
}

/** No values, or one value throughout: nothing to standardise by. */
export const isConstantMoments = (m: Moments): boolean => variance(m) === null;

/** Mean and (population) SD; a constant column keeps SD 1 so it encodes to 0. */
export function standardiser(m: Moments): Standardiser {
  if (m.count === 0) return { mean: 0, sd: 1 };
  const v = variance(m);
  return { mean: m.sum / m.count, sd: v === null ? 1 : Math.sqrt(v) };
}

export function preprocessingFrom(study: Study, s: FeatureStats): Preprocessing {
  const numeric: Record<string, Standardiser> = {};
  for (const f of study.features) {
    if (f.kind !== 'numeric') continue;
    const fromStats = standardiser(s.numeric[f.name]!);
    numeric[f.name] = { mean: f.center ?? fromStats.mean, sd: f.scale ?? fromStats.sd };
  }
  if (!isRegression(study)) return { rows: s.rows, numeric };
  const t = standardiser(s.target as Moments);
  return { rows: s.rows, numeric, target: { mean: study.target.center ?? t.mean, sd: study.target.scale ?? t.sd } };
}

/** Preprocessing straight from a study whose every standardisation is fixed (or a pooled set). */
export function preprocessingOfRows(study: Study, rows: Iterable<ExtractedRow>): Preprocessing {
  return preprocessingFrom(study, statsOf(study, rows));
}

export function hashJson(domain: string, value: unknown): string {
  return createHash('sha256').update(`${domain}\0${canonicalJson(value)}`).digest('hex');
}

export const hashPreprocessing = (p: Preprocessing): string => hashJson('fedrx/preprocessing/v1', p);
export const hashStats = (s: FeatureStats): string => hashJson('fedrx/feature-stats/v1', s);
