// Prediction request encodings at genomic width: a real coordinator on loopback answers a linear
// model of 50,000 numeric inputs, asked by the REST client for 100 and 1,000 rows, (a) as JSON
// objects (one `column: value` per cell, /v1/predict/batch) and (b) as tables (column names
// once, rows as arrays, /v1/predict/table). Both are sent in requests under the 16 MiB body
// limit. Prints seconds and bytes sent per encoding and the table's ratios to the objects
// baseline measured in the same run; one timed pass each after a small warm-up. Client and
// coordinator share this process, so its CPU seconds (beside wall seconds) are the work of both,
// and depend less on what else the machine runs.
//   node bin/run-ts.mjs bench/predict.ts [--width N] [--rows 100,1000] [--only objects|table]     (npm run bench:predict)

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCoordinator } from '../coordinator/app.js';
import { CoordinatorClient, type BatchPredictResponse } from '../cli/client/client.js';
import { scoreTable, type Cell } from '../cli/predict-upload.js';
import { Prng } from '../shared/prng.js';
import type { Study } from '../shared/study.js';
import { commitLinearModel } from '../test/helpers/tiny-model.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const WIDTH = Number(arg('width', '50000'));
const ROW_COUNTS = arg('rows', '100,1000').split(',').map(Number);
const ONLY = arg('only', 'both');
const OBJECT_REQUEST_BYTES = 15 * 1024 * 1024;
/** Distinct rows, reused in turn: the bytes and the work are those of as many distinct rows. */
const DISTINCT = 16;

const dir = join(tmpdir(), `fedrx-bench-predict-${process.pid}`);
mkdirSync(dir, { recursive: true });
const c = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {} });
try {
  const names = Array.from({ length: WIDTH }, (_, i) => `expr_${String(i).padStart(5, '0')}`);
  const study: Study = {
    name: 'wide-bench',
    task: 'regression',
    features: names.map((name) => ({ kind: 'numeric' as const, name, min: -100, max: 100 })),
    target: { name: 'y', transform: 'identity', min: -1e9, max: 1e9 },
    model: { type: 'linear' },
    holdout: { fraction: 0.2, seed: 1 },
  };
  const prep = { rows: 100, numeric: Object.fromEntries(names.map((n) => [n, { mean: 0, sd: 1 }])), target: { mean: 0, sd: 1 } };
  const rng = new Prng(20261128);
  const { modelHash } = commitLinearModel(c.store, study, prep, names.map(() => rng.normal() * 0.01), [0]);
  const url = await c.listen(0);
  const client = new CoordinatorClient(url, { token: c.tokens.create('clinician').token });
  // Expression values as an export writes them: 4 decimals.
  const distinct: number[][] = Array.from({ length: DISTINCT }, () => names.map(() => Math.round(rng.normal() * 1e4) / 1e4));
  const tableRows = (n: number): Cell[][] => Array.from({ length: n }, (_, i) => distinct[i % DISTINCT]!);
  const objectRows = distinct.map((r) => Object.fromEntries(names.map((name, j) => [name, r[j]!])));
  const objectRowBytes = objectRows.map((r) => Buffer.byteLength(JSON.stringify(r)));

  type Measured = { seconds: number; cpu: number; bytes: number; requests: number; answers: BatchPredictResponse['predictions'] };
  const cpuSeconds = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };

  async function viaObjects(n: number): Promise<Measured> {
    let bytes = 0;
    let requests = 0;
    const answers: BatchPredictResponse['predictions'] = [];
    const t0 = performance.now();
    const c0 = cpuSeconds();
    for (let start = 0; start < n; ) {
      let size = 0;
      let end = start;
      while (end < n && (end === start || size + objectRowBytes[end % DISTINCT]! < OBJECT_REQUEST_BYTES)) size += objectRowBytes[end++ % DISTINCT]! + 1;
      const rows = Array.from({ length: end - start }, (_, i) => objectRows[(start + i) % DISTINCT]!);
      const res = await client.predictBatch({ modelHash, rows });
      answers.push(...res.predictions);
      bytes += size;
      requests++;
      start = end;
    }
    return { seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0, bytes, requests, answers };
  }

  async function viaTable(n: number): Promise<Measured> {
    const sent: Cell[][][] = [];
    const t0 = performance.now();
    const c0 = cpuSeconds();
    const res = await scoreTable(client, { modelHash }, names, tableRows(n), (rows) => sent.push(rows));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds() - c0;
    const bytes = sent.reduce((b, rows) => b + Buffer.byteLength(JSON.stringify({ modelHash, columns: names, rows })), 0);
    return { seconds, cpu, bytes, requests: sent.length, answers: res.predictions };
  }

  console.log(`linear model, ${WIDTH.toLocaleString('en')} numeric inputs; coordinator and client in one process on loopback`);
  if (ONLY !== 'table') await viaObjects(2);
  if (ONLY !== 'objects') await viaTable(2);
  const mb = (b: number): string => (b / 1e6).toFixed(1);
  const results: Record<string, unknown>[] = [];
  console.log('\n| rows | encoding | requests | MB sent | wall s | CPU s | rows/s (wall) | vs objects: bytes | vs objects: CPU |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const line = (n: number, name: string, m: Measured, base: Measured | undefined): string =>
    `| ${n} | ${name} | ${m.requests} | ${mb(m.bytes)} | ${m.seconds.toFixed(1)} | ${m.cpu.toFixed(1)} | ${(n / m.seconds).toFixed(1)} | ` +
    (base === undefined ? '– | – |' : `${(m.bytes / base.bytes).toFixed(2)} | ${(m.cpu / base.cpu).toFixed(2)} |`);
  for (const n of ROW_COUNTS) {
    const o = ONLY === 'table' ? undefined : await viaObjects(n);
    if (o !== undefined) console.log(line(n, 'JSON objects', o, o));
    const t = ONLY === 'objects' ? undefined : await viaTable(n);
    if (t !== undefined) console.log(line(n, 'table', t, o));
    // Both encodings must score alike, or the comparison means nothing.
    for (const m of [o, t]) if (m !== undefined && m.answers.length !== n) throw new Error(`${m.answers.length} answers for ${n} rows`);
    const differ = o === undefined || t === undefined ? -1 : o.answers.findIndex((a, i) => a.prediction !== t.answers[i]?.prediction);
    if (differ >= 0) throw new Error(`the encodings answered differently (row ${differ})`);
    const strip = (m: Measured | undefined) => (m === undefined ? undefined : { ...m, answers: undefined });
    results.push({ rows: n, width: WIDTH, objects: strip(o), table: strip(t) });
  }
  mkdirSync('bench-out', { recursive: true });
  writeFileSync(`bench-out/predict${ONLY === 'both' ? '' : `-${ONLY}`}.json`, JSON.stringify(results, null, 2));
  console.log('\nwritten to bench-out/predict.json');
} finally {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
}
