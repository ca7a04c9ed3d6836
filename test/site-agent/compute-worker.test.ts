// The agent's compute thread: real tfjs in a worker thread gives the same numbers as in-process
// training, failures come back coded, and a thread that dies fails only its task.

import { afterAll, describe, expect, it } from 'vitest';
import { denseLayers } from '../../shared/model-spec.js';
import { statsOf } from '../../shared/feature-stats.js';
import type { TrainingSettings } from '../../shared/run-config.js';
import { inputDim, outputDim } from '../../shared/study.js';
import { initialWeights } from '../../shared/model-init.js';
import { loadTf } from '../../site-agent/backend.js';
import { ComputeWorker } from '../../site-agent/compute-worker.js';
import { encodePart, loadSiteRows } from '../../site-agent/local-data.js';
import { evaluateLocal, trainLocal } from '../../site-agent/trainer.js';
import { csvText, prepOf, tempDir, warfarinRows, warfarinStudy } from './helpers.js';

const study = warfarinStudy();
const settings: TrainingSettings = { localEpochs: 2, lr: 0.01, lrDecay: 1, batchSize: 8, optimizer: 'adam', seed: 7 };
const tmp = tempDir('fedrx-compute-');
const dataFile = tmp.file('site.csv', csvText(warfarinRows(40, 11)));
const DYING = new URL('../helpers/dying-compute-thread.mjs', import.meta.url);
const workers: ComputeWorker[] = [];

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  tmp.cleanup();
});

async function started(entry?: URL): Promise<{ w: ComputeWorker; lines: string[] }> {
  const lines: string[] = [];
  const w = await ComputeWorker.start({ siteId: 'site-a', dataFile, dropBadRows: false }, (l) => lines.push(l), entry);
  workers.push(w);
  return { w, lines };
}

describe('compute thread', () => {
  let real: ComputeWorker; // one real thread for the first two tests: tfjs starts once

  it('starts tfjs in the thread, logs its backend, and computes what the agent computed in-process', async () => {
    const { w, lines } = await started();
    real = w;
    expect(await w.backend()).toBe('cpu'); // FEDRX_TF_BACKEND=cpu (helpers.ts), inherited by the thread
    expect(lines.some((l) => /^tfjs backend: cpu \(forced by FEDRX_TF_BACKEND\)/.test(l))).toBe(true);

    const rows = await loadSiteRows(dataFile, study, { siteId: 'site-a' });
    const { stats, trainRows } = await w.run('stats', { study });
    expect(trainRows).toBe(rows.train.length);
    expect(stats).toEqual(statsOf(rows.study, rows.train));

    const prep = prepOf(study, warfarinRows(40, 11));
    const global = initialWeights(study.model, inputDim(study), outputDim(study), 3);
    const before = global.map((t) => Array.from(t.data));
    const { tf } = await loadTf();
    const layers = denseLayers(study.model, inputDim(study), outputDim(study));
    const want = await trainLocal(tf, study, layers, global, encodePart(study, prep, rows.train), settings, 0);
    const got = await w.run('train', { study, prep, global, settings, proximalMu: 0 });
    expect(got.numExamples).toBe(want.numExamples);
    expect(got.trainLoss).toBe(want.trainLoss);
    expect(got.weights.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual(want.weights.map((t) => [t.name, t.shape, Array.from(t.data)]));
    // The caller's global model is left as it was (a copy crossed to the thread).
    expect(global.map((t) => Array.from(t.data))).toEqual(before);

    const score = await w.run('evaluate', { study, prep, global: got.weights });
    // Held-out figures as in-process; the calibration part's binned scores beside them (no validation part here).
    expect(score).toEqual({
      score: evaluateLocal(tf, study, prep, layers, got.weights, encodePart(study, prep, rows.test)),
      validation: null,
      calibration: { numExamples: rows.calibration.length, counts: evaluateLocal(tf, study, prep, layers, got.weights, encodePart(study, prep, rows.calibration), true).sketch },
    });
  });

  it('an error inside a task comes back with its code, and the thread carries on', async () => {
    const w = real;
    const prep = prepOf(study, warfarinRows(40, 11));
    const wrong = [{ name: 'dense0/kernel', shape: [2, 1], data: new Float32Array(2) }];
    await expect(w.run('train', { study, prep, global: wrong, settings, proximalMu: 0 })).rejects.toMatchObject({ code: 'E_SHAPE_MISMATCH' });
    const missing = { ...study, features: [...study.features, { kind: 'numeric' as const, name: 'creatinine', min: 0, max: 20 }] };
    await expect(w.run('stats', { study: missing })).rejects.toMatchObject({ code: 'E_CSV_MISSING_COLUMN' });
    expect((await w.run('stats', { study })).trainRows).toBeGreaterThan(0);
  });

  it('a thread that dies fails its task with E_TRAINING_FAILED and is started again for the next', async () => {
    const { w, lines } = await started(DYING);
    const prep = prepOf(study, warfarinRows(40, 11));
    const global = initialWeights(study.model, inputDim(study), outputDim(study), 3);
    await expect(w.run('train', { study, prep, global, settings, proximalMu: 0 })).rejects.toMatchObject({
      code: 'E_TRAINING_FAILED',
      message: expect.stringMatching(/^train: the compute thread stopped \(exit code 1: simulated crash in the compute thread\)/),
    });
    expect(lines.some((l) => l.includes('it is restarted for the next task'))).toBe(true);
    expect((await w.run('stats', { study })).trainRows).toBe(0); // a new thread answered
  });

  it('a thread whose tfjs cannot start fails the start with its code', async () => {
    const saved = process.env.FEDRX_TF_BACKEND;
    process.env.FEDRX_TF_BACKEND = 'tpu';
    try {
      await expect(started()).rejects.toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringContaining('FEDRX_TF_BACKEND must be one of') });
    } finally {
      process.env.FEDRX_TF_BACKEND = saved;
    }
  });

  it('after close, the thread is gone and a task is refused', async () => {
    const { w } = await started(DYING);
    await w.close();
    await expect(w.run('stats', { study })).rejects.toMatchObject({ code: 'E_TRAINING_FAILED', message: 'the agent is shutting down' });
  });
});
