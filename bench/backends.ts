// Times a 50-epoch linear fit on each tfjs backend, each in its own process (the backend is
// chosen once per process). Proves the wasm backend starts in Node and shows what it buys.
//   npm run bench:backends -- [rows] [hidden units, e.g. 256,256 for an MLP]

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emptyStats, preprocessingFrom } from '../shared/feature-stats.js';
import type { Study } from '../shared/study.js';
import { denseLayers, weightSpecs } from '../shared/model-spec.js';
import { loadTf, type BackendChoice } from '../site-agent/backend.js';
import { Prng } from '../shared/prng.js';
import { evaluateLocal, trainLocal } from '../site-agent/trainer.js';

const WIDTH = 18;
const EPOCHS = 50;

async function one(rows: number, hidden: number[]): Promise<void> {
  const t0 = performance.now();
  const { tf, backend } = await loadTf();
  const initMs = performance.now() - t0;
  const study: Study = {
    name: 'bench',
    task: 'regression',
    features: Array.from({ length: WIDTH }, (_, i) => ({ kind: 'numeric' as const, name: `x${i}`, min: -1e6, max: 1e6, center: 0, scale: 1 })),
    target: { name: 'y', transform: 'identity', min: -1e6, max: 1e6, center: 0, scale: 1 },
    model: hidden.length > 0 ? { type: 'mlp', hidden, activation: 'relu' } : { type: 'linear' },
    holdout: { fraction: 0.2, seed: 1 },
  };
  const rRng = new Prng(42);
  const r = (): number => rRng.next();
  const x = Float32Array.from({ length: rows * WIDTH }, () => r() * 2 - 1);
  const coef = Array.from({ length: WIDTH }, () => r() * 2 - 1);
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0.5;
    for (let j = 0; j < WIDTH; j++) s += coef[j]! * x[i * WIDTH + j]!;
    y[i] = s + 0.05 * (r() - 0.5);
  }
  const layers = denseLayers(study.model, WIDTH, 1);
  // Small random start (an all-zero MLP has no gradient through its hidden layers).
  const init = weightSpecs(study.model, WIDTH, 1).map((s) => ({
    name: s.name,
    shape: s.shape,
    data: Float32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 0.1),
  }));
  // Every standardisation is fixed by the study (identity): no statistics needed.
  const prep = preprocessingFrom(study, emptyStats(study));
  const part = { x, y, actual: Float64Array.from(y), n: rows };
  const t1 = performance.now();
  const res = await trainLocal(tf, study, layers, init, part, { localEpochs: EPOCHS, lr: 0.01, lrDecay: 1, batchSize: 32, optimizer: 'adam', seed: 1 });
  const fitMs = performance.now() - t1;
  const score = evaluateLocal(tf, study, prep, layers, res.weights, part);
  console.log(JSON.stringify({ backend, model: hidden.length > 0 ? `mlp ${hidden.join('x')}` : 'linear', initMs: Math.round(initMs), fitMs: Math.round(fitMs), rows, steps: EPOCHS * Math.ceil(rows / 32), mse: score.loss }));
}

const rows = Number(process.argv[2] ?? 2000);
const hiddenArg = process.argv[3] ?? '';
const hidden = hiddenArg === '' ? [] : hiddenArg.split(',').map(Number);
if (process.env.FEDRX_TF_BACKEND) {
  await one(rows, hidden);
} else {
  for (const b of ['node', 'wasm', 'cpu'] satisfies BackendChoice[]) {
    const runTs = fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url));
    const out = spawnSync(process.execPath, [runTs, fileURLToPath(import.meta.url), String(rows), hiddenArg], {
      env: { ...process.env, FEDRX_TF_BACKEND: b },
      encoding: 'utf8',
    });
    const line = out.stdout.trim().split('\n').pop() ?? '';
    console.log(`${b.padEnd(5)} ${out.status === 0 ? line : `unavailable: ${(out.stderr.match(/FedrxError: .*/)?.[0] ?? out.stderr.trim().split('\n').pop() ?? '').slice(0, 200)}`}`);
  }
}
