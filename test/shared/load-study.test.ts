import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
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
function writeStudy(value: unknown): string {
  const path = join(dir, `study-${n++}.json`);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function loadError(value: unknown): FedrxError {
  const path = writeStudy(value);
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

  });

  it('a feature that is also the target column → E_BAD_REQUEST', () => {
    const t = raw();
    t.target.name = 'sex'; // target named like a feature's column
    const e = loadError(t);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('column "sex" is both a feature and the target');

    const c = raw();
    c.target.column = 'weight_kg'; // target read from a feature's column
    expect(loadError(c).message).toContain('column "weight_kg" is both a feature and the target');

    const f = raw();
    feature(f, 'amiodarone').columns = ['amiodarone', 'weekly_dose_mg']; // a binary reading the target column
    expect(loadError(f).message).toContain('column "weekly_dose_mg" is both a feature and the target');
  });

  it('a missingLevel or otherLevel not among the levels → E_BAD_REQUEST naming the feature', () => {
    const s = raw();
    feature(s, 'ancestry').missingLevel = 'Unknown';
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('feature "ancestry" refers to level "Unknown", which is not one of its levels');

    const o = raw();
    feature(o, 'ancestry').otherLevel = 'Mixed';
    expect(loadError(o).message).toContain('feature "ancestry" refers to level "Mixed"');
  });

  it('a genotype unknownLevel not among the levels → E_BAD_REQUEST', () => {
    const s = raw();
    feature(s, 'cyp2c9').unknownLevel = 'n/a';
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('feature "cyp2c9" refers to level "n/a", which is not one of its levels');
  });

  it('an alias or an imputation to an unknown level → E_BAD_REQUEST', () => {
    const s = raw();
    feature(s, 'vkorc1_1639').aliases = { 'G/A': 'A/G', 'T/T': 'T/T' };
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('feature "vkorc1_1639" refers to level "T/T"');

    const c = raw();
    feature(c, 'ancestry').aliases = { 'Black or African American': 'African' };
    expect(loadError(c).message).toContain('feature "ancestry" refers to level "African"');

    const i = raw();
    feature(i, 'vkorc1_1639').imputeFrom = [{ column: 'rs9934438', map: { 'C/C': 'G/G', 'T/T': 'AA' } }];
    expect(loadError(i).message).toContain('feature "vkorc1_1639" refers to level "AA"');
  });

  it('a numeric map value outside the range → E_BAD_REQUEST', () => {
    const s = raw();
    feature(s, 'age_years').map = { '60 - 69': 65, '100+': 105 };
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('feature "age_years" maps "100+" outside its range');
  });

  it('a sqrt target with a negative min, or a log target with min ≤ 0 → E_BAD_REQUEST', () => {
    const s = raw();
    s.target.min = -1;
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('a sqrt target needs min ≥ 0');
    const zero = raw();
    zero.target.min = 0; // √0 is fine
    expect(loadStudyFile(writeStudy(zero)).target).toMatchObject({ min: 0 });

    const l = raw();
    l.target.transform = 'log';
    l.target.min = 0;
    expect(loadError(l).message).toContain('a log target needs min > 0');
  });

  it('a task whose target is of the other kind → E_BAD_REQUEST', () => {
    const c = raw();
    c.task = 'classification';
    c.metrics = ['accuracy'];
    const e = loadError(c);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('a classification study needs a classification target');

    const r = raw();
    r.target = { name: 'weekly_dose_mg', classes: ['low', 'high'] };
    delete r.metrics;
    expect(loadError(r).message).toContain('a regression study needs a regression target');
  });

  it('metrics must fit the task → E_BAD_REQUEST', () => {
    const s = raw();
    s.metrics = ['mae', 'accuracy'];
    const e = loadError(s);
    expect(e.code).toBe('E_BAD_REQUEST');
    expect(e.message).toContain('accuracy is a classification metric');

    const c = raw();
    c.task = 'classification';
    c.target = { name: 'weekly_dose_mg', classes: ['low', 'high'] };
    c.metrics = ['accuracy', 'mae'];
    expect(loadError(c).message).toContain('a classification study reports accuracy');
    c.metrics = ['accuracy'];
    expect(loadStudyFile(writeStudy(c)).task).toBe('classification'); // control
    c.metrics = ['auc', 'accuracy'];
    expect(loadStudyFile(writeStudy(c)).metrics).toEqual(['auc', 'accuracy']);
    s.metrics = ['mae', 'auc'];
    expect(loadError(s).message).toContain('auc is a classification metric');
    // One-vs-rest counts for 17 classes would outgrow an evaluation message.
    c.target = { name: 'weekly_dose_mg', classes: Array.from({ length: 17 }, (_, i) => `c${i}`) };
    expect(loadError(c).message).toContain('auc is reported for at most 16 classes, not 17');
  });

  it('a YAML study file parses the same as its JSON twin', () => {
    const json = raw();
    const yamlDir = mkdtempSync(join(tmpdir(), 'fedrx-study-yaml-'));
    try {
      const jsonPath = join(yamlDir, 'study.json');
      const yamlPath = join(yamlDir, 'study.yaml');
      const ymlPath = join(yamlDir, 'study.yml');
      writeFileSync(jsonPath, JSON.stringify(json, null, 2));
      const text = toYaml(json);
      expect(text).not.toMatch(/^\s*\{/); // real YAML, not JSON (which YAML would also read)
      writeFileSync(yamlPath, text);
      writeFileSync(ymlPath, text);
      const fromJson = loadStudyFile(jsonPath);
      expect(loadStudyFile(yamlPath)).toEqual(fromJson);
      expect(loadStudyFile(ymlPath)).toEqual(fromJson);
      expect(fromJson).toEqual(loadStudyFile(STUDY_PATH));
      // The YAML is checked by the same rules.
      const bad = raw();
      feature(bad, 'cyp2c9').unknownLevel = 'n/a';
      writeFileSync(yamlPath, toYaml(bad));
      expect(() => loadStudyFile(yamlPath)).toThrow(/refers to level "n\/a"/);
      writeFileSync(yamlPath, 'name: [unclosed');
      expect(() => loadStudyFile(yamlPath)).toThrow(expect.objectContaining({ code: 'E_BAD_REQUEST' }));
    } finally {
      rmSync(yamlDir, { recursive: true, force: true });
    }
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

describe('feature groups in a study file', () => {
  const gene = (): Json => ({ ...raw(), features: [{ kind: 'numeric', name: 'age_years', min: 18, max: 100 }, { kind: 'numeric', match: '^expr_', missing: 'mean' }] });

  it('a feature written with a match becomes a group, in the order written; numeric groups need no range', () => {
    const s = checkStudy({ ...gene(), groups: [{ kind: 'binary', match: '^mut_' }] });
    expect(s.features).toEqual([{ kind: 'numeric', name: 'age_years', min: 18, max: 100 }]);
    expect(s.groups).toEqual([
      { kind: 'numeric', match: '^expr_', missing: 'mean' },
      { kind: 'binary', match: '^mut_' },
    ]);
    const yamlPath = join(dir, 'groups.yaml');
    writeFileSync(yamlPath, toYaml(gene()));
    expect(loadStudyFile(yamlPath).groups).toEqual([{ kind: 'numeric', match: '^expr_', missing: 'mean' }]);
  });

  it('refuses a pattern that is not a regular expression, a bad group range or level, and a study with no input', () => {
    const bad = (group: Json): string => loadError(JSON.stringify({ ...raw(), groups: [group] })).message;
    expect(bad({ kind: 'numeric', match: '^expr_(' })).toContain('numeric group /^expr_(/ is not a valid regular expression');
    expect(bad({ kind: 'numeric', match: '^x', min: 2, max: 1 })).toContain('needs min < max');
    expect(bad({ kind: 'categorical', match: '^x', levels: ['a', 'b'], missingLevel: 'c' })).toContain('refers to level "c"');
    expect(bad({ kind: 'numeric', match: '^x', extra: 1 })).toMatch(/groups\/0/);
    expect(loadError(JSON.stringify({ ...raw(), features: [] })).message).toContain('at least one feature or feature group');
  });
});
