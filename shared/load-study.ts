// Reads a study file (JSON or YAML) and checks it against the schema and its own consistency.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { FedrxError } from './errors.js';
import { MAX_AUC_CLASSES } from './auc.js';
import { featureColumns, isLevelFeature, isRegression, StudySchema, targetColumn, type ClassificationTarget, type MetricName, type Study } from './study.js';
import { expectSchema } from './wire.js';

const CLASSIFICATION_METRICS: readonly MetricName[] = ['accuracy', 'auc'];

export function checkStudy(value: unknown, what = 'study'): Study {
  const study = expectSchema(StudySchema, value, 'E_BAD_REQUEST', what);
  const bad = (why: string): never => {
    throw new FedrxError('E_BAD_REQUEST', `${what}: ${why}`);
  };
  const names = new Set<string>();
  for (const f of study.features) {
    if (names.has(f.name)) bad(`feature "${f.name}" appears twice`);
    names.add(f.name);
    if (featureColumns(f).includes(targetColumn(study))) bad(`column "${targetColumn(study)}" is both a feature and the target`);
    if (f.kind === 'numeric') {
      if (!(f.min < f.max)) bad(`feature "${f.name}" needs min < max`);
      for (const [code, x] of Object.entries(f.map ?? {})) {
        if (x < f.min || x > f.max) bad(`feature "${f.name}" maps "${code}" outside its range`);
      }
    }
    if (isLevelFeature(f)) {
      if (new Set(f.levels).size !== f.levels.length) bad(`feature "${f.name}" repeats a level`);
      const fallbacks = f.kind === 'genotype' ? [f.unknownLevel] : [f.missingLevel, f.otherLevel];
      const imputedLevels = f.kind === 'genotype' ? (f.imputeFrom ?? []).flatMap((r) => Object.values(r.map)) : [];
      for (const l of [...fallbacks, ...Object.values(f.aliases ?? {}), ...imputedLevels]) {
        if (l !== undefined && !f.levels.includes(l)) bad(`feature "${f.name}" refers to level "${l}", which is not one of its levels`);
      }
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
