// Reads a study file (JSON) and checks it against the schema and its own consistency.

import { readFileSync } from 'node:fs';
import { FedrxError } from './errors.js';
import { isRegression, StudySchema, type Study } from './study.js';
import { expectSchema } from './wire.js';

export function checkStudy(value: unknown, what = 'study'): Study {
  const study = expectSchema(StudySchema, value, 'E_BAD_REQUEST', what);
  const names = new Set<string>();
  for (const f of [...study.features.map((x) => x.name), study.target.name]) {
    if (names.has(f)) throw new FedrxError('E_BAD_REQUEST', `${what}: column "${f}" appears twice`);
    names.add(f);
  }
  for (const f of study.features) {
    if (f.kind === 'numeric' && !(f.min < f.max)) throw new FedrxError('E_BAD_REQUEST', `${what}: feature "${f.name}" needs min < max`);
    if (f.kind === 'categorical') {
      if (new Set(f.levels).size !== f.levels.length) throw new FedrxError('E_BAD_REQUEST', `${what}: feature "${f.name}" repeats a level`);
      if (f.missingLevel !== undefined && !f.levels.includes(f.missingLevel)) {
        throw new FedrxError('E_BAD_REQUEST', `${what}: feature "${f.name}" missingLevel is not one of its levels`);
      }
    }
  }
  if (isRegression(study) && !(study.target.min < study.target.max)) {
    throw new FedrxError('E_BAD_REQUEST', `${what}: target needs min < max`);
  }
  return study;
}

export function loadStudyFile(path: string): Study {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FedrxError('E_BAD_REQUEST', `cannot read study file ${path}: ${(e as Error).message}`);
  }
  return checkStudy(value, `study ${path}`);
}
