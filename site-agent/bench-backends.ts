// Times a 50-epoch linear fit on each tfjs backend, each in its own process (the backend is
// chosen once per process). Proves the wasm backend starts in Node and shows what it buys.
//   npx tsx site-agent/bench-backends.ts [rows]

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Study } from '../shared/study.js';
import { denseLayers, weightSpecs } from '../shared/model-spec.js';
import { loadTf, type BackendChoice } from './backend.js';
import { mulberry32 } from './prng.js';
import { evaluateLocal, trainLocal } from './trainer.js';

const WIDTH = 18;
const EPOCHS = 50;

async function one(rows: number): Promise<void> {
  const t0 = performance.now();
  const { tf, backend } = await loadTf();
  const initMs = performance.now() - t0;
  const study: Study = {
    name: 'bench',
    task: 'regression',
    features: Array.from({ length: WIDTH }, (_, i) => ({ kind: 'numeric' as const, name: `x${i}`, min: -1e6, max: 1e6, center: 0, scale: 1 })),
    target: { name: 'y', transform: 'identity', min: -1e6, max: 1e6, center: 0, scale: 1 },
    model: { type: 'linear' },
    holdout: { fraction: 0.2, seed: 1 },
  };
  const r = mulberry32(42);
  const x = Float32Array.from({ length: rows * WIDTH }, () => r() * 2 - 1);
  const coef = Array.from({ length: WIDTH }, () => r() * 2 - 1);
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0.5;
    for (let j = 0; j < WIDTH; j++) s += coef[j]! * x[i * WIDTH + j]!;
    y[i] = s + 0.05 * (r() - 0.5);
  }
  const layers = denseLayers(study.model, WIDTH, 1);
  const zeros = weightSpecs(study.model, WIDTH, 1).map((s) => ({ name: s.name, shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)) }));
  const t1 = performance.now();
  const res = await trainLocal(tf, study, layers, zeros, { x, y, n: rows }, { localEpochs: EPOCHS, lr: 0.01, batchSize: 32, optimizer: 'adam', seed: 1 });
  const fitMs = performance.now() - t1;
  const score = evaluateLocal(tf, study, layers, res.weights, { x, y, n: rows });
  console.log(JSON.stringify({ backend, initMs: Math.round(initMs), fitMs: Math.round(fitMs), rows, steps: EPOCHS * Math.ceil(rows / 32), mse: score.loss }));
}

const rows = Number(process.argv[2] ?? 2000);
if (process.env.FEDRX_TF_BACKEND) {
  await one(rows);
} else {
  for (const b of ['node', 'wasm', 'cpu'] satisfies BackendChoice[]) {
    const out = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), String(rows)], {
      env: { ...process.env, FEDRX_TF_BACKEND: b },
      encoding: 'utf8',
    });
    const line = out.stdout.trim().split('\n').pop() ?? '';
    console.log(`${b.padEnd(5)} ${out.status === 0 ? line : `unavailable: ${(out.stderr.match(/FedrxError: .*/)?.[0] ?? out.stderr.trim().split('\n').pop() ?? '').slice(0, 200)}`}`);
  }
}
