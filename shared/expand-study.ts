// Feature groups → features. A study may select columns by pattern ("^expr_"); a site matches
// the patterns against its CSV header, and a run fixes one ordered list at round 0
// (shared/input-list.ts). Expanding a study with such a list gives an ordinary study whose every
// feature is named, so extraction, statistics, preprocessing and prediction need no special case.
// Pure: errors name patterns and columns, never cells.

import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from './errors.js';
import type { Preprocessing } from './feature-stats.js';
import { featureColumns, MAX_FEATURE_GROUPS, MAX_INPUT_FEATURES, targetColumn, type Feature, type FeatureGroup, type Study } from './study.js';

/** Per group, in the study's order, the CSV columns it stands for, in input order. */
export type GroupColumns = string[][];

const ColumnName = Type.String({ minLength: 1, maxLength: 1024 });

/** The run's expanded input list, fixed at round 0 from the sites' statistics. */
export const InputListSchema = Type.Object(
  {
    /** Per group, in the study's order: its columns, in input order. */
    groups: Type.Array(Type.Array(ColumnName, { maxItems: MAX_INPUT_FEATURES }), { maxItems: MAX_FEATURE_GROUPS }),
    /** Columns a group matched at some site that the run leaves out, and why. */
    dropped: Type.Array(Type.Object({ column: ColumnName, reason: Type.String({ maxLength: 256 }) }, { additionalProperties: false }), {
      maxItems: MAX_INPUT_FEATURES,
    }),
  },
  { additionalProperties: false },
);
export type InputList = Static<typeof InputListSchema>;

const NAMED_SHOWN = 10;

/** `"a", "b", … and 3 more`: long column lists stay readable in one error line. */
export function nameSome(columns: readonly string[], shown = NAMED_SHOWN, name = (c: string): string => `"${c}"`): string {
  const head = columns.slice(0, shown).map(name).join(', ');
  return columns.length > shown ? `${head} and ${columns.length - shown} more` : head;
}

export const groupLabel = (g: FeatureGroup): string => `${g.kind} group /${g.match}/`;

/** The group's pattern; checked to compile when the study is loaded. */
export function groupRegExp(g: FeatureGroup): RegExp {
  return new RegExp(g.match, 'u');
}

/** Columns no group may claim: the target and the id column are never inputs. */
function reservedColumns(study: Study): Set<string> {
  return new Set([targetColumn(study), ...(study.idColumn === undefined ? [] : [study.idColumn])]);
}

/**
 * Site side: which of `header`'s columns each group claims, in CSV order. A group matching no
 * column is E_GROUP_NO_MATCH; a column claimed twice (two groups, or a group and a named
 * feature) is E_GROUP_OVERLAP.
 */
export function matchGroups(study: Study, header: readonly string[]): GroupColumns {
  const groups = study.groups ?? [];
  if (groups.length === 0) return [];
  const reserved = reservedColumns(study);
  const named = new Map<string, string>();
  for (const f of study.features) for (const c of featureColumns(f)) named.set(c, `feature "${f.name}"`);
  const claimedBy = new Map<string, string>();
  const overlaps: string[] = [];
  const out: GroupColumns = groups.map((g) => {
    const re = groupRegExp(g);
    const label = groupLabel(g);
    const mine: string[] = [];
    for (const column of header) {
      if (reserved.has(column) || !re.test(column)) continue;
      const other = claimedBy.get(column) ?? named.get(column);
      if (other !== undefined) overlaps.push(`"${column}" (${other} and ${label})`);
      else {
        claimedBy.set(column, label);
        mine.push(column);
      }
    }
    return mine;
  });
  if (overlaps.length > 0) {
    throw new FedrxError(
      'E_GROUP_OVERLAP',
      `${overlaps.length} column${overlaps.length > 1 ? 's are' : ' is'} claimed twice: ${overlaps.slice(0, NAMED_SHOWN).join(', ')}${overlaps.length > NAMED_SHOWN ? ', …' : ''}. Make the patterns exclusive.`,
      { columns: overlaps.length },
    );
  }
  const empty = groups.filter((_, i) => out[i]!.length === 0);
  if (empty.length > 0) {
    throw new FedrxError('E_GROUP_NO_MATCH', `${empty.map(groupLabel).join(', ')} match${empty.length > 1 ? '' : 'es'} no column of the CSV (${header.length} columns)`, {
      patterns: empty.map((g) => g.match),
    });
  }
  return out;
}

/**
 * The feature a group makes of one of its columns: named after the column, with the group's
 * settings (a group's fields are those of the feature kind it makes, less the name).
 */
function memberOf(g: FeatureGroup): (column: string) => Feature {
  const { match: _match, ...settings } = g;
  return (column) => ({ ...settings, name: column }) as Feature;
}

/** The study with every group replaced by one feature per column, after the named features. */
export function expandStudy(study: Study, columns: GroupColumns): Study {
  const groups = study.groups ?? [];
  if (columns.length !== groups.length) {
    throw new FedrxError('E_INTERNAL', `study ${study.name} has ${groups.length} feature groups, the input list ${columns.length}`);
  }
  const { groups: _groups, ...rest } = study;
  if (groups.length === 0) return study;
  const features = [...study.features];
  const names = new Set(features.map((f) => f.name));
  groups.forEach((g, i) => {
    const member = memberOf(g);
    for (const column of columns[i]!) {
      if (names.has(column)) throw new FedrxError('E_GROUP_OVERLAP', `column "${column}" of ${groupLabel(g)} is also the name of another feature`);
      names.add(column);
      features.push(member(column));
    }
  });
  if (features.length > MAX_INPUT_FEATURES) {
    throw new FedrxError('E_CSV_TOO_WIDE', `study ${study.name} expands to ${features.length} features; at most ${MAX_INPUT_FEATURES} are supported`);
  }
  return { ...rest, features };
}

/**
 * The study a run's models read: expanded with the input list fixed at round 0 (kept in the run's
 * preprocessing). Agents, the predictor and benchmarks all go through here, so every one of them
 * builds the same input vector in the same order.
 */
export function runStudy(study: Study, prep: Pick<Preprocessing, 'inputs'>): Study {
  if ((study.groups ?? []).length === 0) return study;
  if (prep.inputs === undefined) throw new FedrxError('E_INTERNAL', `study ${study.name} has feature groups but the run fixed no input list`);
  return expandStudy(study, prep.inputs.groups);
}
