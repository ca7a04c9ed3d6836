// End to end: updates larger than one WebSocket message. A real coordinator process runs a
// one-round FedAvg of a 151M-weight model (604 MB of float32); two protocol-level sites, holding
// real registered keys, each stream a 604 MB update of known values in 4 MiB chunks over the real
// wire protocol (the coordinator takes frames of at most 256 MB). The committed model must be
// exactly their example-weighted mean, the ledger must name their updateHashes, the coordinator's
// resident memory may grow by at most 1.5× the model while the updates stream in, and the spool
// files it kept open meanwhile (seen in /proc/PID/fd) must be gone afterwards. Needs about 6 GB of free memory; skipped with a message on a smaller machine.

import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoordinatorClient, type RunView } from '../../cli/client/client.js';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import { openDb } from '../../coordinator/store/db.js';
import { readModelFrame } from '../../coordinator/store/model-frames.js';
import { SPOOL_PREFIX } from '../../coordinator/strategies/chunk-spool.js';
import { readKeyPair } from '../../shared/key-files.js';
import { hashWeights } from '../../shared/model-hash.js';
import { decodeFrame } from '../../shared/tensor-codec.js';
import { specMismatch, totalParams, type Weights } from '../../shared/tensors.js';
import { weightSpecs } from '../../shared/model-spec.js';
import { inputDim, outputDim } from '../../shared/study.js';
import type { Study } from '../../shared/study.js';
import { sendStream } from '../../site-agent/chunked-send.js';
import { signedStatsReport, signedUpdateStream, TestPeer, type TestSite } from '../helpers/test-peer.js';
import { tempDir } from '../helpers/temp.js';
import { TINY_STUDY } from '../helpers/tiny-study.js';
import { fedrxCommand } from './harness.js';

const STUDY: Study = { ...TINY_STUDY, name: 'wide-mlp', model: { type: 'mlp', hidden: [12288, 12288] } };
const CHUNK_VALUES = 1 << 20; // 4 MiB
const NEEDED_FREE_BYTES = 6 * 1024 ** 3;

/** Site 1 sends (i mod 251)/8 from 1 row, site 2 −(i mod 127)/4 from 3: their mean is exact in float32. */
const valueA = (i: number): number => (i % 251) / 8;
const valueB = (i: number): number => -(i % 127) / 4;
const mean = (i: number): number => (valueA(i) + 3 * valueB(i)) / 4;

let coordinator: FedrxProcess | undefined;
const peers: TestPeer[] = [];
afterAll(async () => {
  for (const p of peers) p.close();
  await coordinator?.stop();
});

/** The spool files (chunk-spool.ts) the process holds open now. */
function openSpools(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.includes(`/${SPOOL_PREFIX}`)) out.push(target);
    } catch {
      // closed since the listing
    }
  }
  return out;
}

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** A known-value update of the task's tensor table: views of one flat array. */
function knownUpdate(table: readonly { name: string; shape: number[] }[], value: (i: number) => number): Weights {
  const flat = new Float32Array(totalParams(table));
  for (let i = 0; i < flat.length; i++) flat[i] = value(i);
  let at = 0;
  return table.map((t) => {
    const data = flat.subarray(at, at + totalParams([t]));
    at += data.length;
    return { name: t.name, shape: [...t.shape], data };
  });
}

/** The run once it has ended; a poll the busy coordinator drops (it writes 604 MB models to SQLite) is retried. */
async function settled(client: CoordinatorClient, runId: string): Promise<RunView> {
  for (;;) {
    const run = await client.run(runId).catch(() => null);
    if (run !== null && run.status !== 'running' && run.status !== 'queued') return run;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const paced = (p: TestPeer) => (frame: Buffer): Promise<boolean> => new Promise((resolve) => p.ws.send(frame, (err) => resolve(err == null)));

describe.skipIf(freemem() < NEEDED_FREE_BYTES)('updates larger than one message', () => {
  it('aggregates two 604 MB chunked updates exactly, the coordinator growing by at most 1.5× the model while they stream', async () => {
    const t0 = performance.now();
    const step = (what: string): void => console.log(`[large update] ${((performance.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    const dir = tempDir('e2e-large');
    const db = join(dir, 'coordinator.sqlite');
    const sites: TestSite[] = [];
    for (const siteId of ['site-1', 'site-2']) {
      const keyDir = join(dir, `${siteId}-key`);
      expect((await fedrxCommand(['site', 'init', '--out', keyDir])).code).toBe(0);
      expect((await fedrxCommand(['site', 'register', '--db', db, '--site', siteId, '--public-key', join(keyDir, 'site.pub')])).code).toBe(0);
      sites.push({ siteId, keys: readKeyPair(keyDir, 'site') });
    }
    const token = (await fedrxCommand(['token', 'create', '--db', db, '--role', 'data-scientist'])).lines.find((l) => l.startsWith('frx_'))!;
    coordinator = spawnFedrx('coordinator', ['coordinator', '--db', db, '--port', '0'], { logFile: join(dir, 'coordinator.log') });
    const url = (await coordinator.waitFor(LISTENING, 60_000))[1]!;
    const pid = coordinator.child.pid!;
    const client = new CoordinatorClient(url, { token });
    // Made before the sites connect: seconds of work that would keep this process from answering
    // the coordinator's heartbeats (a real agent computes in its compute thread).
    const table = weightSpecs(STUDY.model, inputDim(STUDY), outputDim(STUDY));
    const updates = [knownUpdate(table, valueA), knownUpdate(table, valueB)];
    const hashes = updates.map(hashWeights);
    step('updates made and hashed');

    for (const [k, site] of sites.entries()) {
      const p = await TestPeer.admit(url, site, { maxPayload: 1024 ** 3, dropWeights: true });
      peers.push(p);
      void p.until((r) => r.json.find((m) => m.type === 'stats-request'), 300_000).then((req) => {
        const s = k + 1;
        const stats = { rows: 2, numeric: { x1: { count: 2, sum: 2 * s + 1, sumSq: s * s + (s + 1) ** 2 } }, levels: { g: [1, 1] }, target: { count: 2, sum: 20 * s, sumSq: 200 * s * s } };
        p.send(signedStatsReport(site, req.runId as string, stats));
      });
    }
    const run = await client.startRun({ study: STUDY, rounds: 1, minSites: 2, roundTimeoutSec: 600 });
    const taskOf = (p: TestPeer, kind: string) => p.until((r) => r.tasks.find((t) => t.header.kind === kind && t.header.round === 1), 300_000);
    const tasks = await Promise.all(peers.map((p) => taskOf(p, 'train')));
    step('both sites hold the training task of round 1');
    expect(specMismatch(tasks[0]!.header.tensors, table)).toBeNull();
    const modelBytes = totalParams(table) * 4;
    expect(modelBytes).toBeGreaterThan(600e6);

    const streams = sites.map((site, k) =>
      signedUpdateStream(site, { runId: run.id, round: 1, baseModelHash: tasks[k]!.header.modelHash, updateHash: hashes[k]!, numExamples: k === 0 ? 1 : 3 }, updates[k]!, CHUNK_VALUES),
    );
    step('streams signed');
    // The round is open: global model, task frame and the aggregator's running sum are held. From
    // here, sample the coordinator's memory while both updates stream in, all but site 2's last chunk.
    const baseline = rssBytes(pid);
    let peak = baseline;
    const spools = new Set<string>();
    let ticks = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(pid));
      if (ticks++ % 10 === 0) for (const f of openSpools(pid)) spools.add(f);
    }, 20);
    const started = performance.now();
    const held = { ...streams[1]!, chunkCount: streams[1]!.chunkCount - 1 };
    const sent = await Promise.all([sendStream(streams[0]!, paced(peers[0]!)), sendStream(held, paced(peers[1]!))]);
    const seconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000)); // what is in flight is folded
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(pid));
    expect(sent).toEqual([true, true]);
    peers[1]!.ws.send(streams[1]!.chunk(streams[1]!.chunkCount - 1));

    const growth = peak - baseline;
    const mb = (b: number): string => (b / 1e6).toFixed(0);
    console.log(
      `[large update] model ${mb(modelBytes)} MB, 2 updates of ${streams[0]!.chunkCount} chunks in ${seconds.toFixed(1)} s (${mb((2 * modelBytes) / seconds)} MB/s); ` +
        `coordinator RSS ${mb(baseline)} MB with the round open, peak ${mb(peak)} MB while streaming: growth ${mb(growth)} MB = ${(growth / modelBytes).toFixed(2)}× the model`,
    );
    expect(growth).toBeLessThanOrEqual(1.5 * modelBytes);

    for (const p of peers) {
      void taskOf(p, 'evaluate').then((t) => {
        const sums = { n: 2, absErr: 1, within20: 1, sqErr: 1, sumY: 10, sumY2: 30 };
        p.send(JSON.stringify({ type: 'eval-result', v: 1, runId: t.header.runId, round: 1, modelHash: t.header.modelHash, numExamples: 2, loss: 1, sums }));
      });
    }
    const done = await settled(client, run.id);
    step('run completed');
    expect(done.status, done.error ?? '').toBe('completed');
    const round = done.rounds.find((r) => r.round === 1)!;
    expect(round.sites.map((s) => [s.siteId, s.status, s.updateHash])).toEqual([['site-1', 'accepted', hashes[0]], ['site-2', 'accepted', hashes[1]]]);
    // Each stream kept its folded chunks in a spool file while it was open; none is left.
    expect(spools.size).toBeGreaterThanOrEqual(1);
    expect([...spools].filter((f) => existsSync(f.replace(/ \(deleted\)$/, '')))).toEqual([]);
    expect(openSpools(pid)).toEqual([]);

    // The committed model, read from the coordinator's database: (1·a + 3·b) / 4, exactly.
    const store = openDb(db, { readonly: true });
    const row = readModelFrame(store, round.modelHash!)!;
    store.close();
    const model = decodeFrame(row.frame).weights;
    let at = 0;
    let wrong = -1;
    for (const t of model) {
      for (let i = 0; i < t.data.length && wrong < 0; i++) if (t.data[i] !== mean(at + i)) wrong = at + i;
      at += t.data.length;
    }
    step('committed model checked');
    expect(wrong).toBe(-1);
    expect(at * 4).toBe(modelBytes);
  }, 600_000); // 1.5 min idle; 3 at a load average of 20 on two cores, more beyond
});
