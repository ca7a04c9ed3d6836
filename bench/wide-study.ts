// Width benchmark: what a study with a feature group costs a site and the coordinator at 2,000,
// 10,000 and 50,000 gene columns × 300 rows (seeded synthetic CSV in a temp folder).
//   node bin/run-ts.mjs bench/wide-study.ts [--widths 2000,10000,50000] [--rows 300] [--sites 10]
// Each time is printed beside the baseline measured in the same run, reading the file's bytes,
// and as a ratio to it: load + extract (CSV reader, every cell through the study), the site's
// statistics, checking and merging `--sites` reports into the run's input list and preprocessing,
// encoding the training rows, and the sizes of a stats-report and of a task header. CPU seconds
// are printed too: on a shared machine they move less than wall time.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashPreprocessing, statsOf } from '../shared/feature-stats.js';
import { checkSiteStats, runPreprocessing } from '../shared/input-list.js';
import { checkStudy } from '../shared/load-study.js';
import { Prng } from '../shared/prng.js';
import { encodePart, loadSiteRows } from '../site-agent/local-data.js';

const { values: args } = parseArgs({ options: { widths: { type: 'string', default: '2000,10000,50000' }, rows: { type: 'string', default: '300' }, sites: { type: 'string', default: '10' } } });
const widths = args.widths.split(',').map(Number);
const rows = Number(args.rows);
const sites = Number(args.sites);

const study = checkStudy({
  name: 'wide',
  task: 'regression',
  idColumn: 'id',
  features: [{ kind: 'numeric', match: '^g_', missing: 'mean' }],
  target: { name: 'y', transform: 'identity', min: -1000, max: 1000 },
  model: { type: 'linear', l2: 'auto' },
  holdout: { fraction: 0.2, seed: 1 },
});

function writeCsv(file: string, width: number): void {
  const rng = new Prng(width);
  const header = ['id', 'y', ...Array.from({ length: width }, (_, j) => `g_${j}`)].join(',');
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const cells = [`r${i}`, (rng.next() * 10).toFixed(3)];
    for (let j = 0; j < width; j++) cells.push(rng.next() < 0.01 ? '' : ((rng.next() - 0.5) * 4).toFixed(4));
    lines.push(cells.join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

interface Timed<T> {
  value: T;
  wall: number;
  cpu: number;
}
async function timed<T>(fn: () => T | Promise<T>): Promise<Timed<T>> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const dir = mkdtempSync(join(tmpdir(), 'fedrx-wide-'));
const table: string[][] = [];
try {
  for (const width of widths) {
    const file = join(dir, `w${width}.csv`);
    writeCsv(file, width);
    const read = await timed(() => readFileSync(file, 'utf8').length);
    const loaded = await timed(() => loadSiteRows(file, study, { siteId: 'site-1' }));
    const stats = await timed(() => statsOf(loaded.value.study, loaded.value.train));
    const reportBytes = Buffer.byteLength(JSON.stringify({ type: 'stats-report', v: 1, runId: 'run-1', stats: stats.value, signature: '0'.repeat(128) }));
    // The coordinator's round 0 over `sites` reports (the same one, re-parsed as each arrives).
    const text = JSON.stringify(stats.value);
    const merged = await timed(() => {
      const reports = Array.from({ length: sites }, () => {
        const s = JSON.parse(text);
        return { stats: s, columns: checkSiteStats(study, s) };
      });
      return runPreprocessing(study, reports);
    });
    const headerBytes = Buffer.byteLength(JSON.stringify({ study, preprocessing: merged.value.prep }));
    const encoded = await timed(() => encodePart(merged.value.study, merged.value.prep, loaded.value.train));
    const hashed = await timed(() => hashPreprocessing(merged.value.prep));
    const row = (what: string, t: Timed<unknown>): string[] => [String(width), what, t.wall.toFixed(2), t.cpu.toFixed(2), (t.wall / read.wall).toFixed(0)];
    table.push(
      row('read file bytes (baseline)', read),
      row('load + extract', loaded),
      row('site statistics', stats),
      row(`check + merge ${sites} reports`, merged),
      row('encode training rows', encoded),
      row('hash preprocessing', hashed),
      [String(width), `stats-report ${(reportBytes / 1e6).toFixed(2)} MB, task header ${(headerBytes / 1e6).toFixed(2)} MB`, '', '', ''],
    );
    console.log(`width ${width}: done (${(readFileSync(file).length / 1e6).toFixed(0)} MB CSV)`);
    rmSync(file);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const head = ['width', 'step', 'wall s', 'cpu s', '× read'];
const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
for (const r of [head, ...table]) console.log(r.map((c, i) => c.padEnd(w[i]!)).join('  '));
