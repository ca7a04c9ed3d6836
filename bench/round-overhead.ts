// The coordinator's overhead per round: a real coordinator (Fastify + ws on loopback, SQLite,
// signatures, ledger) runs a 1M-parameter model over 10, 50 and 100 sites whose "training" is a
// fixed wait (bench/overhead-sites.ts, one separate process for all of them). Everything else in
// a round is overhead: sending the model, receiving, checking, hashing and folding the updates,
// aggregation, the evaluation phase, the commit. Printed in seconds and as a share of the round.
//   node bin/run-ts.mjs bench/round-overhead.ts [TRAIN_SEC]     (part of npm run bench:round)

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCoordinator } from '../coordinator/app.js';
import { generateKeyPair } from '../shared/signing.js';
import type { Study } from '../shared/study.js';
import { tempDir } from '../test/helpers/temp.js';
import type { OverheadSite } from './overhead-sites.js';

const SITE_COUNTS = (process.env.FEDRX_BENCH_SITES ?? '10,50,100').split(',').map(Number);
const ROUNDS = 3;
const FEATURES = Array.from({ length: 10 }, (_, i) => `x${i}`);
/** 10 inputs → 1,000 → 990 → 1: 1,000,891 float32 parameters (4 MB). */
const STUDY: Study = {
  name: 'overhead',
  task: 'regression',
  features: FEATURES.map((name) => ({ kind: 'numeric' as const, name, min: -1e6, max: 1e6 })),
  target: { name: 'y', transform: 'identity', min: -1e6, max: 1e6 },
  model: { type: 'mlp', hidden: [1000, 990] },
  holdout: { fraction: 0.2, seed: 1 },
  minRows: 10,
};

interface OverheadFigure {
  sites: number;
  trainSec: number;
  roundSec: number;
  overheadSec: number;
  share: number;
  coordinatorCpuSec: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(n: number, trainMs: number): Promise<OverheadFigure> {
  const dir = tempDir('bench-overhead');
  const committedAt = new Map<number, { wall: number; cpu: number }>();
  const c = await buildCoordinator({
    db: join(dir, 'c.sqlite'),
    log: () => {},
    limits: { maxConnectionsPerAddress: 10_000, maxPendingHellos: 10_000 },
    onStep: (s) => {
      if (s.step === 'committed') {
        const u = process.cpuUsage();
        committedAt.set(s.round, { wall: performance.now(), cpu: (u.user + u.system) / 1e6 });
      }
    },
  });
  const sites: OverheadSite[] = Array.from({ length: n }, (_, i) => {
    const keys = generateKeyPair();
    const siteId = `site-${String(i + 1).padStart(3, '0')}`;
    c.store.sites.register(siteId, keys.publicKey);
    return { siteId, secretKey: Buffer.from(keys.secretKey).toString('hex'), features: FEATURES };
  });
  const keyFile = join(dir, 'sites.json');
  writeFileSync(keyFile, JSON.stringify(sites));
  const url = await c.listen(0);
  const runTs = fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url));
  const child = spawn(process.execPath, [runTs, fileURLToPath(new URL('./overhead-sites.ts', import.meta.url)), url, keyFile, String(trainMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the sites' process exited (${code})`)));
    });
    const token = c.tokens.create('data-scientist').token;
    const res = await c.app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${token}` },
      payload: { study: STUDY, rounds: ROUNDS, minSites: n, roundTimeoutSec: 600, patience: 0 },
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`run start: ${res.statusCode} ${res.body}`);
    const runId = (res.json() as { id: string }).id;
    for (;;) {
      const run = c.store.getRun(runId)!;
      if (run.status === 'failed') throw new Error(`run failed: ${run.error}`);
      if (run.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Rounds 2..ROUNDS: from one commit to the next (round 1 also warms up the code paths).
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let r = 2; r <= ROUNDS; r++) {
      const a = committedAt.get(r - 1)!;
      const b = committedAt.get(r)!;
      walls.push((b.wall - a.wall) / 1000);
      cpus.push(b.cpu - a.cpu);
    }
    const roundSec = median(walls);
    const trainSec = trainMs / 1000;
    return { sites: n, trainSec, roundSec, overheadSec: roundSec - trainSec, share: (roundSec - trainSec) / roundSec, coordinatorCpuSec: median(cpus) };
  } finally {
    child.kill();
    await c.close();
  }
}

export async function roundOverhead(trainSec: number): Promise<OverheadFigure[]> {
  const figures: OverheadFigure[] = [];
  console.log(`\ncoordinator overhead per round: a 1,000,891-parameter MLP, sites that train for ${trainSec} s (a wait), median of rounds 2-${ROUNDS}`);
  console.log('sites  round (s)  overhead (s)  overhead share  coordinator CPU (s)');
  for (const n of SITE_COUNTS) {
    const f = await measure(n, trainSec * 1000);
    figures.push(f);
    console.log(`${String(n).padStart(5)}  ${f.roundSec.toFixed(2).padStart(9)}  ${f.overheadSec.toFixed(2).padStart(12)}  ${(f.share * 100).toFixed(1).padStart(13)}%  ${f.coordinatorCpuSec.toFixed(2).padStart(19)}`);
  }
  console.log('(goal: under 5%; the sites run in one separate process on the same cores, so their decoding and signing compete with the coordinator)');
  return figures;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const figures = await roundOverhead(Number(process.argv[2] ?? 10));
  mkdirSync('bench-out', { recursive: true });
  writeFileSync('bench-out/round-overhead.json', JSON.stringify(figures, null, 2));
}
