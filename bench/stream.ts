// What streaming an update in chunks costs against sending it as one frame, through a real
// coordinator (Fastify + ws on loopback, SQLite, signatures, the FedAvg fold): one site sends the
// same 67 MB update (a 16.8M-weight MLP) once as one frame and then as streams of 4 MiB and 1 MiB
// chunks, a round each, three times over. Timed from the first byte sent to the training phase
// accepting the update; printed in MB/s and as a ratio to the one-frame path of the same run.
//   node bin/run-ts.mjs bench/stream.ts          (npm run bench:stream)

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCoordinator } from '../coordinator/app.js';
import { hashWeights } from '../shared/model-hash.js';
import type { Study } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import { sendStream } from '../site-agent/chunked-send.js';
import { registerTestSites, signedStatsReport, signedUpdateFrame, signedUpdateStream, TestPeer } from '../test/helpers/test-peer.js';
import { tempDir } from '../test/helpers/temp.js';
import { TINY_STUDY } from '../test/helpers/tiny-study.js';

const STUDY: Study = { ...TINY_STUDY, name: 'stream-bench', model: { type: 'mlp', hidden: [4096, 4096] } };
const WAYS = [
  { label: 'one frame', chunkValues: 0 },
  { label: 'chunks of 4 MiB', chunkValues: 1 << 20 },
  { label: 'chunks of 1 MiB', chunkValues: 1 << 18 },
];
const REPEATS = 3;
const ROUNDS = WAYS.length * REPEATS;

let accepted: (() => void) | null = null;
const coordinator = await buildCoordinator({
  db: join(tempDir('bench-stream'), 'c.sqlite'),
  log: () => {},
  maxFrameBytes: 1024 ** 3,
  onStep: (s) => {
    if (s.step === 'answer' && s.phase === 'training') accepted?.();
  },
});
const site = registerTestSites(coordinator.store, ['site-a'])['site-a']!;
const url = await coordinator.listen(0);
const token = coordinator.tokens.create('data-scientist').token;
const peer = await TestPeer.admit(url, site, { maxPayload: 1024 ** 3 });
void peer.until((r) => r.json.find((m) => m.type === 'stats-request'), 60_000).then((req) => {
  const stats = { rows: 2, numeric: { x1: { count: 2, sum: 3, sumSq: 5 } }, levels: { g: [1, 1] }, target: { count: 2, sum: 20, sumSq: 200 } };
  peer.send(signedStatsReport(site, req.runId as string, stats));
});
const res = await coordinator.app.inject({
  headers: { authorization: `Bearer ${token}` },
  method: 'POST',
  url: '/v1/runs',
  payload: { study: STUDY, rounds: ROUNDS, minSites: 1, roundTimeoutSec: 600 },
});
const runId = res.json().id as string;

const seconds: Record<string, number[]> = Object.fromEntries(WAYS.map((w) => [w.label, []]));
let bytes = 0;
for (let round = 1; round <= ROUNDS; round++) {
  const way = WAYS[(round - 1) % WAYS.length]!;
  const task = await peer.until((r) => r.tasks.find((t) => t.header.kind === 'train' && t.header.round === round), 300_000);
  const update: Weights = task.weights.map((t) => ({ ...t, data: t.data.map((x) => x + 0.5) }));
  bytes = update.reduce((n, t) => n + t.data.byteLength, 0);
  const fields = { runId, round, baseModelHash: task.header.modelHash, updateHash: hashWeights(update), numExamples: 4 };
  const done = new Promise<void>((resolve) => (accepted = resolve));
  const frame = way.chunkValues === 0 ? signedUpdateFrame(site, fields, update) : null;
  const stream = way.chunkValues === 0 ? null : signedUpdateStream(site, fields, update, way.chunkValues);
  const started = performance.now();
  if (frame !== null) peer.send(frame);
  else await sendStream(stream!, (f) => new Promise((resolve) => peer.ws.send(f, (err) => resolve(err == null))));
  await done;
  seconds[way.label]!.push((performance.now() - started) / 1000);
  console.log(`round ${round}/${ROUNDS}: ${way.label}, ${(bytes / 1e6).toFixed(0)} MB accepted in ${seconds[way.label]!.at(-1)!.toFixed(2)} s`);
  void peer.until((r) => r.tasks.find((t) => t.header.kind === 'evaluate' && t.header.round === round), 300_000).then((t) => {
    const sums = { n: 2, absErr: 1, within20: 1, sqErr: 1, sumY: 10, sumY2: 30 };
    peer.send(JSON.stringify({ type: 'eval-result', v: 1, runId, round, modelHash: t.header.modelHash, numExamples: 2, loss: 1, sums }));
    // Tasks of past rounds are not needed again: let their weights go.
    peer.received.tasks.length = 0;
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(seconds[WAYS[0]!.label]!);
console.log(`\n${(bytes / 1e6).toFixed(0)} MB update, median of ${REPEATS}:`);
console.log('way               seconds   MB/s   time ÷ one frame');
for (const w of WAYS) {
  const s = median(seconds[w.label]!);
  console.log(`${w.label.padEnd(16)}  ${s.toFixed(2).padStart(7)}  ${(bytes / 1e6 / s).toFixed(0).padStart(5)}   ${(s / base).toFixed(2)}`);
}
peer.close();
await coordinator.close();
