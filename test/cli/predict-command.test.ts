// `fedrx predict` in process against a real coordinator on loopback: the real IWPC file (every
// column of the cohort's export, long free-text medication lists included) is scored row by row,
// and a classification's CSV has a probability per class. Models are written straight through
// the store; the IWPC part skips with a message where the file is absent.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../coordinator/app.js';
import { predictCommand } from '../../cli/predict-command.js';
import { IWPC_CSV, iwpcAvailable } from '../../datasets/iwpc.js';
import { csvRecords } from '../../shared/csv-records.js';
import { loadStudyFile } from '../../shared/load-study.js';
import { inputDim, type Study } from '../../shared/study.js';
import { commitLinearModel } from '../helpers/tiny-model.js';
import { tempDir } from '../helpers/temp.js';
import { TINY_STUDY } from '../helpers/tiny-study.js';

const dir = tempDir('predict-command');
let c: Coordinator;
let url: string;
let token: string;

beforeAll(async () => {
  c = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {} });
  url = await c.listen(0);
  token = c.tokens.create('clinician').token;
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterAll(async () => {
  vi.restoreAllMocks();
  await c.close();
});

const readOut = (file: string) => [...csvRecords(readFileSync(file, 'utf8'))].map((r) => r.cells);

const iwpc = iwpcAvailable();
if (!iwpc) console.log(`IWPC prediction test skipped: ${IWPC_CSV} is absent`);

describe.skipIf(!iwpc)('the real IWPC export', () => {
  it('is scored row by row: a long Medications cell is never sent, and only rows with bad model inputs fail', async () => {
    const study = loadStudyFile(new URL('../../datasets/studies/warfarin-iwpc.json', import.meta.url).pathname);
    const numeric = study.features.filter((f) => f.kind === 'numeric').map((f) => [f.name, { mean: 0, sd: 1 }]);
    // All weights 0: every scored patient gets the back-transformed mean, 6² = 36 mg/week.
    const model = commitLinearModel(c.store, study, { rows: 100, numeric: Object.fromEntries(numeric), target: { mean: 6, sd: 1 } }, new Array(inputDim(study)).fill(0), [0]);
    const out = join(dir, 'iwpc-predictions.csv');
    await predictCommand({ coordinator: url, input: IWPC_CSV, out, model: model.modelHash, token });

    const [header, ...rows] = readOut(out);
    const file = [...csvRecords(readFileSync(IWPC_CSV, 'utf8'))];
    const medications = file[0]!.cells.indexOf('Medications');
    expect(file.some((r) => r.cells[medications]!.length > 256), 'the file holds a Medications cell over 256 characters').toBe(true);
    // A model committed without a conformal quantile: the interval columns stay empty.
    expect(header).toEqual(['id', 'prediction', 'unit', 'lower', 'upper', 'coverage', 'error_code', 'error', 'model_hash']);
    expect(rows).toHaveLength(file.length - 1);
    expect(rows.map((r) => r[0])).toEqual(file.slice(1).map((r) => r.cells[0]));
    const scored = rows.filter((r) => r[6] === '');
    expect(scored.length).toBeGreaterThan(0.9 * rows.length);
    expect(new Set(scored.map((r) => r[1]))).toEqual(new Set(['36']));
    expect(new Set(scored.map((r) => r.slice(3, 6).join()))).toEqual(new Set([',,']));
    // Rows that fail name a column the model reads, never a cell's value.
    for (const r of rows.filter((x) => x[6] !== '')) {
      expect(['E_MISSING_FEATURE', 'E_BAD_FEATURE']).toContain(r[6]);
      expect(r[7]).toMatch(/^column "[^"]+": /);
    }
  });
});

describe('a classification model', () => {
  it('writes the class, a probability column per class and the calibrated prediction set', async () => {
    const study: Study = { ...TINY_STUDY, name: 'tiny-class-cli', task: 'classification', target: { name: 'y', classes: ['low', 'high'] } };
    // Logit of "high" = x1 (g has weight 0).
    const conformal = { kind: 'set' as const, coverage: 0.9, quantile: 0.6, calibrationRows: 50, sites: 2 };
    const model = commitLinearModel(c.store, study, { rows: 10, numeric: { x1: { mean: 0, sd: 1 } } }, [1, 0], [0], { conformal });
    const input = join(dir, 'class.csv');
    writeFileSync(input, 'x1,g\n0,a\n2,b\n');
    const out = join(dir, 'class-predictions.csv');
    await predictCommand({ coordinator: url, input, out, model: model.modelHash, token });
    // Set: the classes with 1 − p ≤ 0.6: both at p = 0.5; only "high" at p(high) = 0.88.
    expect(readOut(out)).toEqual([
      ['id', 'prediction', 'unit', 'probability_low', 'probability_high', 'set', 'coverage', 'error_code', 'error', 'model_hash'],
      ['1', 'low', '', '0.5000', '0.5000', 'low|high', '0.9', '', '', model.modelHash],
      ['2', 'high', '', (1 - 1 / (1 + Math.exp(-2))).toFixed(4), (1 / (1 + Math.exp(-2))).toFixed(4), 'high', '0.9', '', '', model.modelHash],
    ]);
  });
});
