// Round 0 for studies with feature groups: each site reports statistics for the columns its
// groups matched there; the coordinator fixes one ordered input list for the whole run from
// those reports. A group keeps the columns every reporting site has (sorted by name, so the
// order does not depend on any site's CSV), minus columns that are constant over all sites'
// rows (they carry no signal and have no SD to divide by). Every column left out is recorded
// with its reason. Pure.

import { FedrxError } from './errors.js';
import { expandStudy, groupLabel, groupRegExp, type GroupColumns, type InputList } from './expand-study.js';
import { checkStats, isConstantMoments, mergeStats, preprocessingFrom, type FeatureStats, type Preprocessing } from './feature-stats.js';
import type { Study } from './study.js';

/**
 * The columns each group took at a site, read off the keys of its statistics: numeric groups'
 * columns are among `numeric`, the others' among `levels`. Attacker-controlled: a key that two
 * groups claim, or that no group or named feature explains, makes the report unusable.
 */
export function reportedGroupColumns(study: Study, stats: FeatureStats): GroupColumns {
  const groups = study.groups ?? [];
  const named = new Set(study.features.map((f) => f.name));
  const out: GroupColumns = groups.map(() => []);
  const claim = (keys: string[], numeric: boolean): void => {
    const candidates = groups.map((g, i) => ({ g, i, re: groupRegExp(g) })).filter(({ g }) => (g.kind === 'numeric') === numeric);
    for (const key of keys) {
      if (named.has(key)) continue;
      const hits = candidates.filter(({ re }) => re.test(key));
      if (hits.length !== 1) {
        throw new FedrxError('E_BAD_MESSAGE', `statistics do not fit study ${study.name}: column "${key}" is claimed by ${hits.length} feature groups`);
      }
      out[hits[0]!.i]!.push(key);
    }
  };
  claim(Object.keys(stats.numeric), true);
  claim(Object.keys(stats.levels), false);
  return out;
}

/** Whether the pooled values of a group column hold a single value (or none). */
function isConstant(merged: FeatureStats, column: string, numeric: boolean): boolean {
  return numeric ? isConstantMoments(merged.numeric[column]!) : merged.levels[column]!.filter((c) => c > 0).length <= 1;
}

export interface FixedInputs {
  inputs: InputList;
  /** The study expanded with `inputs`: what every task's input vector is built from. */
  study: Study;
  /** The sites' statistics added up over the fixed list. */
  merged: FeatureStats;
}

/** Fixes the run's input list from the sites' reports (each with the columns its groups took). */
export function fixInputList(study: Study, reports: readonly { stats: FeatureStats; columns: GroupColumns }[]): FixedInputs {
  const groups = study.groups ?? [];
  const dropped: InputList['dropped'] = [];
  const common: GroupColumns = groups.map((_, gi) => {
    const seen = new Map<string, number>();
    for (const r of reports) for (const c of r.columns[gi]!) seen.set(c, (seen.get(c) ?? 0) + 1);
    const kept: string[] = [];
    for (const [column, sites] of seen) {
      if (sites === reports.length) kept.push(column);
      else dropped.push({ column, reason: `matched at ${sites} of ${reports.length} sites` });
    }
    return kept.sort();
  });
  const merged = mergeStats(expandStudy(study, common), reports.map((r) => r.stats));
  const fixed: GroupColumns = common.map((columns, gi) =>
    columns.filter((column) => {
      if (!isConstant(merged, column, groups[gi]!.kind === 'numeric')) return true;
      dropped.push({ column, reason: 'constant over all sites' });
      return false;
    }),
  );
  const empty = groups.filter((_, gi) => fixed[gi]!.length === 0);
  if (empty.length > 0) {
    throw new FedrxError(
      'E_GROUP_NO_MATCH',
      `${empty.map(groupLabel).join(', ')}: no column is present at every reporting site and varies (${dropped.length} left out)`,
      { patterns: empty.map((g) => g.match) },
    );
  }
  dropped.sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
  const inputs: InputList = { groups: fixed, dropped };
  return { inputs, study: expandStudy(study, fixed), merged };
}

/**
 * Checks one site's statistics against the study (coordinator side) and returns the columns its
 * feature groups took there. Attacker-controlled: throws E_BAD_MESSAGE when the report does not fit.
 */
export function checkSiteStats(study: Study, stats: FeatureStats): GroupColumns {
  const columns = reportedGroupColumns(study, stats);
  checkStats(expandStudy(study, columns), stats);
  return columns;
}

/**
 * The run's preprocessing from the sites' statistics, and the study its inputs are built from:
 * with feature groups, the input list is fixed here and kept in the preprocessing (so its hash
 * is in ledger entry 0); without, the study is used as written.
 */
export function runPreprocessing(study: Study, reports: readonly { stats: FeatureStats; columns: GroupColumns }[]): { study: Study; prep: Preprocessing } {
  if ((study.groups ?? []).length === 0) return { study, prep: preprocessingFrom(study, mergeStats(study, reports.map((r) => r.stats))) };
  const fixed = fixInputList(study, reports);
  return { study: fixed.study, prep: { ...preprocessingFrom(fixed.study, fixed.merged), inputs: fixed.inputs } };
}
