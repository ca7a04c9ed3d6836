import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FedrxError } from '../../shared/errors.js';
import { checkStudy, loadStudyFile } from '../../shared/load-study.js';
import { inputDim, outputDim, requiredColumns } from '../../shared/study.js';

const STUDY_PATH = fileURLToPath(new URL('../../datasets/studies/synthetic-warfarin.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fedrx-study-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;

/** A fresh mutable copy of the shipped study file's JSON. */
function raw(): Json & { features: Json[]; target: Json } {
  return JSON.parse(readFileSync(STUDY_PATH, 'utf8')) as Json & { features: Json[]; target: Json };
}

function feature(study: ReturnType<typeof raw>, name: string): Json {
  const f = study.features.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no feature ${name}`);
  return f;
}

let n = 0;
function loadError(value: unknown): FedrxError {
  const path = join(dir, `study-${n++}.json`);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  try {
    loadStudyFile(path);
  } catch (e) {
    if (e instanceof FedrxError) return e;
    throw e;
  }
  throw new Error('expected the study to be refused');
}

describe('loadStudyFile', () => {
  it('loads the shipped warfarin study', () => {
    const s = loadStudyFile(STUDY_PATH);
    expect(s.name).toBe('synthetic-warfarin');
    expect(s.task).toBe('regression');
    expect(s.features.map((f) => f.name)).toEqual([
      'age_years', 'height_cm', 'weight_kg', 'sex', 'ancestry', 'cyp2c9', 'vkorc1_1639', 'amiodarone', 'enzyme_inducer',
    ]);
    expect(inputDim(s)).toBe(18);
    expect(outputDim(s)).toBe(1);
    expect(requiredColumns(s).at(-1)).toBe('weekly_dose_mg');
    // An unmodified copy written elsewhere loads too (control for the failure cases below).
    const path = join(dir, 'copy.json');
    writeFileSync(path, JSON.stringify(raw()));
    expect(loadStudyFile(path)).toEqual(s);
  });

  it('a duplicate column → E_BAD_REQUEST naming it', () => {
    const s = raw();
    s.features.push({ kind: 'numeric', name: 'age_years', min: 0, max: 1, center: 0, scale: 1 });
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('"age_years" appears twice');

    const t = raw();
    t.target.name = 'sex'; // target clashes with a feature
    expect(loadError(t).message).toContain('"sex" appears twice');
  });

  it('a missingLevel not among the levels → E_BAD_REQUEST naming the feature', () => {
    const s = raw();
    feature(s, 'ancestry').missingLevel = 'Unknown';
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('"ancestry" missingLevel is not one of its levels');
  });

  it('a repeated level → E_BAD_REQUEST', () => {
    const s = raw();
    feature(s, 'sex').levels = ['F', 'M', 'F'];
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('"sex" repeats a level');
  });

  it('min ≥ max → E_BAD_REQUEST, for a feature and for the target', () => {
    const eq = raw();
    feature(eq, 'height_cm').min = 220;
    const e = loadError(eq);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('"height_cm" needs min < max');

    const gt = raw();
    feature(gt, 'weight_kg').min = 300;
    expect(loadError(gt).message).toContain('"weight_kg" needs min < max');

    const tgt = raw();
    tgt.target.min = 400;
    const te = loadError(tgt);
    expect(te.code).toBe('E_BAD_REQUEST');
    expect(te.message).toContain('target needs min < max');
  });

  it('an unknown property → E_BAD_REQUEST naming where', () => {
    const top = raw();
    top.colour = 'blue';
    const e = loadError(top);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('is invalid');
    expect(e.message).toContain('colour');

    const inner = raw();
    feature(inner, 'age_years').units = 'years';
    const ie = loadError(inner);
    expect(ie.code).toBe('E_BAD_REQUEST');
    expect(ie.message).toContain('/features/0');
  });

  it('unreadable or non-JSON file → E_BAD_REQUEST', () => {
    expect(loadError('{ not json').code).toBe('E_BAD_REQUEST');
    let code = '';
    try {
      loadStudyFile(join(dir, 'does-not-exist.json'));
    } catch (e) {
      code = e instanceof FedrxError ? e.code : 'other';
    }
    expect(code).toBe('E_BAD_REQUEST');
  });

  it('checkStudy prefixes messages with what it checks', () => {
    const s = raw();
    feature(s, 'ancestry').missingLevel = 'Nope';
    expect(() => checkStudy(s, 'run body')).toThrow(/^run body: feature "ancestry"/);
  });
});
