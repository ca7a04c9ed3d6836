// Reads a study file (JSON or YAML) and checks it against the schema and its own consistency.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { FedrxError } from './errors.js';
import { MAX_AUC_CLASSES } from './auc.js';
import { groupLabel, groupRegExp } from './expand-study.js';
import { featureColumns, isLevelFeature, isRegression, StudySchema, targetColumn, type ClassificationTarget, type MetricName, type Study } from './study.js';
import { expectSchema } from './wire.js';

/**
 * A feature written with a `match` is a feature group: it moves to `groups` (in the order written),
 * so a study can list `{ kind: numeric, match: "^expr_", missing: mean }` among its features.
 */
function withGroupsApart(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { features?: unknown }).features)) return value;
  const v = value as { features: unknown[]; groups?: unknown };
  const isGroup = (f: unknown): boolean => typeof f === 'object' && f !== null && 'match' in f;
  if (!v.features.some(isGroup)) return value;
  const written = Array.isArray(v.groups) ? v.groups : [];
  return { ...v, features: v.features.filter((f) => !isGroup(f)), groups: [...v.features.filter(isGroup), ...written] };
}

const CLASSIFICATION_METRICS: readonly MetricName[] = ['accuracy', 'auc'];

export function checkStudy(value: unknown, what = 'study'): Study {
  const study = expectSchema(StudySchema, withGroupsApart(value), 'E_BAD_REQUEST', what);
  const bad = (why: string): never => {
    throw new FedrxError('E_BAD_REQUEST', `${what}: ${why}`);
  };
  if (study.features.length === 0 && study.groups === undefined) bad('a study needs at least one feature or feature group');
  for (const g of study.groups ?? []) {
    try {
      groupRegExp(g);
    } catch {
      bad(`${groupLabel(g)} is not a valid regular expression`);
    }
    if (g.kind === 'numeric' && g.min !== undefined && g.max !== undefined && !(g.min < g.max)) bad(`${groupLabel(g)} needs min < max`);
    if (g.kind === 'categorical') checkLevels(`${groupLabel(g)}`, g.levels, [g.missingLevel, g.otherLevel, ...Object.values(g.aliases ?? {})], bad);
  }
  const names = new Set<string>();
  for (const f of study.features) {
    if (names.has(f.name)) bad(`feature "${f.name}" appears twice`);
    names.add(f.name);
    if (featureColumns(f).includes(targetColumn(study))) bad(`column "${targetColumn(study)}" is both a feature and the target`);
    if (f.kind === 'numeric') {
      if (f.min !== undefined && f.max !== undefined && !(f.min < f.max)) bad(`feature "${f.name}" needs min < max`);
      for (const [code, x] of Object.entries(f.map ?? {})) {
        if ((f.min !== undefined && x < f.min) || (f.max !== undefined && x > f.max)) bad(`feature "${f.name}" maps "${code}" outside its range`);
      }
    }
    if (isLevelFeature(f)) {
      const fallbacks = f.kind === 'genotype' ? [f.unknownLevel] : [f.missingLevel, f.otherLevel];
      const imputedLevels = f.kind === 'genotype' ? (f.imputeFrom ?? []).flatMap((r) => Object.values(r.map)) : [];
      checkLevels(`feature "${f.name}"`, f.levels, [...fallbacks, ...Object.values(f.aliases ?? {}), ...imputedLevels], bad);
    }
  }
  if (isRegression(study) !== ('transform' in study.target)) bad(`a ${study.task} study needs a ${study.task} target`);
  if (isRegression(study)) {
    const t = study.target;
    if (!(t.min < t.max)) bad('target needs min < max');
    if (t.transform === 'sqrt' && t.min < 0) bad('a sqrt target needs min ≥ 0');
    if (t.transform === 'log' && t.min <= 0) bad('a log target needs min > 0');
    for (const m of CLASSIFICATION_METRICS) if (study.metrics?.includes(m)) bad(`${m} is a classification metric`);
  } else {
    if (study.metrics?.some((m) => !CLASSIFICATION_METRICS.includes(m))) bad('a classification study reports accuracy and auc');
    const classes = (study.target as ClassificationTarget).classes.length;
    if (study.metrics?.includes('auc') && classes > MAX_AUC_CLASSES) bad(`auc is reported for at most ${MAX_AUC_CLASSES} classes, not ${classes}`);
  }
  return study;
}

/** Levels are distinct, and every level a fallback, alias or rule refers to is one of them. */
function checkLevels(label: string, levels: readonly string[], referred: readonly (string | undefined)[], bad: (why: string) => never): void {
  if (new Set(levels).size !== levels.length) bad(`${label} repeats a level`);
  for (const l of referred) {
    if (l !== undefined && !levels.includes(l)) bad(`${label} refers to level "${l}", which is not one of its levels`);
  }
}

export function parseStudyText(text: string, file: string): unknown {
  return /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
}

export function loadStudyFile(path: string): Study {
  let value: unknown;
  try {
    value = parseStudyText(readFileSync(path, 'utf8'), path);
  } catch (e) {
    throw new FedrxError('E_BAD_REQUEST', `cannot read study file ${path}: ${(e as Error).message}`);
  }
  return checkStudy(value, `study ${path}`);
}
