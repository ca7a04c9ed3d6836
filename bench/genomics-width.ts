// The width-scaling half of `npm run bench:genomics`: seeded synthetic sites (10 × 300 rows) with a
// known sparse signal at 2,000, 10,000 and 50,000 features, each fitted exactly by a real
// federation. Per width: seconds per round trip, bytes per site per round trip, peak RSS of the
// coordinator and of one agent, and how well the coefficients recover the truth.

import Database from 'better-sqlite3';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { startLocalFederation } from '../cli/local-federation.js';
import { exactMode } from '../shared/exact/crossover.js';
import { runStudy } from '../shared/expand-study.js';
import { Prng } from '../shared/prng.js';
import type { Study } from '../shared/study.js';
import { decodeFrame } from '../shared/tensor-codec.js';
import { pearson } from './ridge-baselines.js';

export interface WidthRow {
  width: number;
  mode: string;
  trainRows: number;
  roundTrips: number;
  secondsPerRoundTrip: number;
  fitSeconds: number;
  bytesPerSitePerRoundTrip: number;
  coordinatorPeakMb: number;
  agentPeakMb: number;
  coefCorrelation: number;
  supportRecovered: number;
}

const SITES = 10;
const ROWS = 300;
const SIGNAL = 20;
const L2 = 0.1;

async function writeSite(file: string, rng: Prng, width: number, beta: Map<number, number>): Promise<void> {
  const out = createWriteStream(file);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`${Array.from({ length: width }, (_, j) => `g${j}`).join(',')},y\n`);
  const row = new Array<string>(width + 1);
  for (let r = 0; r < ROWS; r++) {
    let y = rng.normal(0, 1);
    for (let j = 0; j < width; j++) {
      const v = Math.round(rng.normal() * 100) / 100;
      row[j] = String(v);
      const b = beta.get(j);
      if (b !== undefined) y += b * v;
    }
    row[width] = y.toFixed(3);
    await write(row.join(',') + '\n');
  }
  out.end();
  await once(out, 'finish');
}

function peakMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

export async function runWidthScaling(dir: string, widths: number[], log: (line: string) => void): Promise<WidthRow[]> {
  const rows: WidthRow[] = [];
  for (const width of widths) {
    const wdir = join(dir, String(width));
    mkdirSync(join(wdir, 'sites'), { recursive: true });
    const rng = new Prng(`width-${width}`);
    const beta = new Map<number, number>();
    while (beta.size < SIGNAL) beta.set(Math.floor(rng.next() * width), (rng.next() < 0.5 ? -1 : 1) * (0.5 + rng.next()));
    const t0 = performance.now();
    const sites = [];
    for (let s = 1; s <= SITES; s++) {
      const file = join(wdir, 'sites', `site-${s}.csv`);
      await writeSite(file, rng, width, beta);
      sites.push({ siteId: `site-${s}`, file });
    }
    log(`width ${width}: wrote ${SITES} site CSVs of ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s; starting the federation …`);
    const study: Study = {
      name: `synthetic-width-${width}`,
      task: 'regression',
      features: [],
      groups: [{ kind: 'numeric', match: '^g[0-9]+$', min: -100, max: 100 }],
      target: { name: 'y', transform: 'identity', min: -1e6, max: 1e6 },
      model: { type: 'linear', l2: L2 },
      metrics: ['rmse', 'r2'],
      holdout: { fraction: 0.2, seed: 1 },
    };
    const fed = await startLocalFederation(wdir, sites, { connectTimeoutMs: 600_000 });
    try {
      const client = fed.clients['data-scientist'];
      const started = performance.now();
      const run = await client.startRun({ study, strategy: 'exact', minSites: SITES, roundTimeoutSec: 1800, waitForSitesSec: 600 });
      const done = await client.follow(run.id, () => {}, 500);
      const fitSeconds = (performance.now() - started) / 1000;
      if (done.status !== 'completed') throw new Error(`width ${width}: run ${done.status}: ${done.error ?? ''}`);
      const fit = done.rounds.find((r) => r.round === 1)!;
      const trainRows = fit.metrics.trainExamples ?? 0;
      const mode = exactMode(width, trainRows);
      const logText = fed.coordinator.lines.join('\n');
      const iterations = Number(/converged in (\d+) iterations/.exec(logText)?.[1] ?? '0');
      const roundTrips = mode === 'products' ? iterations + 1 : 1;
      const db = new Database(fed.db, { readonly: true });
      const frame = (db.prepare('SELECT frame FROM models WHERE hash = ?').get(fit.modelHash) as { frame: Buffer }).frame;
      db.close();
      const raw = decodeFrame(frame).weights[0]!.data;
      // Back to column order (the run's input list is sorted by name); features are standardised
      // with SD ≈ 1, so the truth on the model's scale is β itself.
      const names = runStudy(study, done.preprocessing!).features.map((f) => Number(f.name.slice(1)));
      const kernel = new Float64Array(width);
      names.forEach((j, i) => (kernel[j] = raw[i]!));
      const truth = Float64Array.from({ length: width }, (_, j) => beta.get(j) ?? 0);
      const top = [...kernel.keys()].sort((a, b) => Math.abs(kernel[b]!) - Math.abs(kernel[a]!)).slice(0, SIGNAL);
      const row: WidthRow = {
        width,
        mode,
        trainRows,
        roundTrips,
        secondsPerRoundTrip: fitSeconds / roundTrips,
        fitSeconds,
        bytesPerSitePerRoundTrip: mode === 'products' ? (width + 1) * 8 * 2 : Math.min(trainRows / SITES, width + 2) * (width + 2) * 8,
        coordinatorPeakMb: peakMb(fed.coordinator.child.pid),
        agentPeakMb: peakMb(fed.agents.get('site-1')?.child.pid),
        coefCorrelation: pearson(kernel, truth),
        supportRecovered: top.filter((j) => beta.has(j)).length / SIGNAL,
      };
      log(
        `width ${width}: ${mode}, ${roundTrips} round trips in ${fitSeconds.toFixed(1)} s (${row.secondsPerRoundTrip.toFixed(2)} s each), ${(row.bytesPerSitePerRoundTrip / 1e6).toFixed(2)} MB per site per round trip, peak RSS coordinator ${row.coordinatorPeakMb.toFixed(0)} MB, agent ${row.agentPeakMb.toFixed(0)} MB, coefficient correlation with the truth ${row.coefCorrelation.toFixed(3)}, support ${(100 * row.supportRecovered).toFixed(0)}% of ${SIGNAL}`,
      );
      rows.push(row);
    } finally {
      await fed.stop();
    }
  }
  if (rows.length > 0) {
    log('\n| features | algorithm | training rows | round trips | s per round trip | fit s (incl. statistics, evaluation) | MB per site per round trip | coordinator peak RSS MB | agent peak RSS MB | coef. correlation with truth | true support in top 20 |');
    log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      log(`| ${r.width.toLocaleString('en')} | ${r.mode === 'products' ? 'conjugate gradient' : 'factored statistics'} | ${r.trainRows} | ${r.roundTrips} | ${r.secondsPerRoundTrip.toFixed(2)} | ${r.fitSeconds.toFixed(1)} | ${(r.bytesPerSitePerRoundTrip / 1e6).toFixed(2)} | ${r.coordinatorPeakMb.toFixed(0)} | ${r.agentPeakMb.toFixed(0)} | ${r.coefCorrelation.toFixed(3)} | ${(100 * r.supportRecovered).toFixed(0)}% |`);
    }
  }
  return rows;
}
