// Integration: a real coordinator (loopback port, SQLite file) running relay runs, driven through
// REST as a regional agent would, with protocol-level test peers as its sites: a round from the
// parent's model and task with hand-worked FedAvg, a step waiting for its queued run, a restart
// between steps, a failed step, a cancel.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { initialWeights } from '../../../shared/model-init.js';
import { decodeRelayUpdate } from '../../../shared/relay-wire.js';
import type { TaskConfig } from '../../../shared/run-config.js';
import { inputDim, outputDim } from '../../../shared/study.js';
import { encodeFrame } from '../../../shared/tensor-codec.js';
import type { Weights } from '../../../shared/tensors.js';
import { PROTOCOL_VERSION, type TaskHeader } from '../../../shared/wire.js';
import { registerTestSites, signedStatsReport, signedUpdateFrame, TestPeer, type TestSite } from '../../helpers/test-peer.js';
import { TINY_PREP, TINY_STUDY } from '../../helpers/tiny-study.js';
import { answerEval } from '../../helpers/tiny-run.js';

let coordinator: Coordinator;
let db: string;
let sites: Record<string, TestSite>;
let headers: { authorization: string };
const logs: string[] = [];
const peers: TestPeer[] = [];

async function start(): Promise<void> {
  coordinator = await buildCoordinator({ db, log: (l) => logs.push(l) });
  headers = { authorization: `Bearer ${coordinator.tokens.create('data-scientist').token}` };
}

beforeEach(async () => {
  db = join(mkdtempSync(join(tmpdir(), 'fedrx-relay-')), 'c.sqlite');
  await start();
  sites = registerTestSites(coordinator.store, ['site-a', 'site-b']);
});

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await coordinator.close();
});

const shifted = (w: Weights, by: number): Weights => w.map((t) => ({ ...t, data: t.data.map((x) => x + by) }));
const WEIGHTS = initialWeights(TINY_STUDY.model, inputDim(TINY_STUDY), outputDim(TINY_STUDY), 'parent');
// The parent's task: its preprocessing and settings, which the sites must receive unchanged.
const TASK: TaskConfig = { study: TINY_STUDY, preprocessing: TINY_PREP, training: { localEpochs: 3, lr: 0.05, lrDecay: 0.9, batchSize: 4, optimizer: 'sgd', seed: 9 }, proximalMu: 0.1 };
const taskFrame = (kind: 'train' | 'evaluate', runId: string, round: number, weights = WEIGHTS): Buffer =>
  encodeFrame({ v: PROTOCOL_VERSION, kind, runId, round, modelHash: hashWeights(weights), config: TASK, dp: { clip: 1, noiseStd: 0.5, noiseMultiplier: 1, samplingRate: 1, delta: 1e-5, roundsLeft: 3 }, secure: true }, weights);

async function createRelay(over: Record<string, unknown> = {}): Promise<string> {
  const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, minSites: 2, roundTimeoutSec: 5, waitForSitesSec: 5, relay: { parentRunId: 'national-7' }, ...over } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

function step(runId: string, name: string, body?: Buffer | object) {
  const binary = Buffer.isBuffer(body);
  return coordinator.app.inject({
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': binary ? 'application/octet-stream' : 'application/json' }) },
    method: 'POST',
    url: `/v1/runs/${runId}/relay/${name}`,
    ...(body === undefined ? {} : { payload: binary ? body : JSON.stringify(body) }),
  });
}

async function connect(): Promise<Record<'a' | 'b', TestPeer>> {
  const url = await coordinator.listen(0);
  const a = await TestPeer.admit(url, sites['site-a']!);
  const b = await TestPeer.admit(url, sites['site-b']!);
  peers.push(a, b);
  return { a, b };
}

/** Both sites train: a (10 examples, loss 1) moves every weight by +1, b (30, loss 3) by +5; then both score the aggregate. */
async function answerTraining(p: Record<'a' | 'b', TestPeer>, round: number): Promise<TaskHeader> {
  const [ta, tb] = await Promise.all([p.a.task('train', round), p.b.task('train', round)]);
  const send = (peer: TestPeer, site: string, h: TaskHeader, w: Weights, by: number, numExamples: number, trainLoss: number): void =>
    peer.send(signedUpdateFrame(sites[site]!, { runId: h.runId, round, baseModelHash: h.modelHash, updateHash: hashWeights(shifted(w, by)), numExamples, trainLoss }, shifted(w, by)));
  send(p.a, 'site-a', ta.header, ta.weights, 1, 10, 1);
  send(p.b, 'site-b', tb.header, tb.weights, 5, 30, 3);
  answerEval(p.a, round);
  answerEval(p.b, round);
  return ta.header;
}

describe('relay runs', () => {
  it('trains one round from the parent model and task: FedAvg of the sites, the entry naming the parent model', async () => {
    const p = await connect();
    const runId = await createRelay();
    const posted = step(runId, 'train', taskFrame('train', runId, 4));
    const sent = await answerTraining(p, 4);
    // The sites got the parent's task verbatim, round 4 (their lr decay matches), without the parent's DP mark.
    expect(sent).toMatchObject({ runId, round: 4, modelHash: hashWeights(WEIGHTS), config: TASK });
    expect(sent.dp).toBeUndefined();
    const res = await posted;
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const { header, weights } = decodeRelayUpdate(res.rawPayload);
    // (10·1 + 30·5) / 40 = +4; loss (10·1 + 30·3) / 40 = 2.5.
    expect(hashWeights(weights)).toBe(hashWeights(shifted(WEIGHTS, 4)));
    expect(header).toMatchObject({ runId, round: 4, numExamples: 40, trainLoss: 2.5, sites: 2 });
    const entry = coordinator.store.ledger.head().last!;
    expect(entry).toMatchObject({ runId, round: 4, modelHash: header.modelHash, parentModelHash: hashWeights(WEIGHTS) });
    expect(header.head).toMatchObject({ length: entry.index + 1, headHash: entry.entryHash });
    // Then the sites scored the regional aggregate, as in any round: they hold its bytes before its entry comes to endorse.
    expect(p.a.received.tasks.map((t) => [t.header.kind, t.header.modelHash])).toEqual([
      ['train', hashWeights(WEIGHTS)],
      ['evaluate', header.modelHash],
    ]);
    expect(entry.metrics.evalExamples).toBe(10);
  });

  it('a step posted while its run is queued waits for it to start', async () => {
    const p = await connect();
    // A normal run needing more sites than are connected holds the queue for a second, then fails.
    const first = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, minSites: 3, waitForSitesSec: 1 } });
    const runId = await createRelay();
    expect(coordinator.store.getRun(runId)!.status).toBe('queued');
    const posted = step(runId, 'statistics', {});
    for (const [peer, site] of [[p.a, 'site-a'], [p.b, 'site-b']] as const) {
      const req = await peer.until((r) => r.json.find((m) => m.type === 'stats-request' && m.runId === runId), 15_000);
      peer.send(signedStatsReport(sites[site]!, req.runId as string, { rows: 2, numeric: { x1: { count: 2, sum: 3, sumSq: 5 } }, levels: { g: [1, 1] }, target: { count: 2, sum: 20, sumSq: 200 } }));
    }
    const res = await posted;
    expect(res.statusCode, res.body).toBe(200);
    expect(coordinator.store.getRun(first.json().id)!.status).toBe('failed');
    expect(res.json()).toMatchObject({ sites: 2, stats: { rows: 4, numeric: { x1: { count: 4, sum: 6, sumSq: 10 } }, levels: { g: [2, 2] } } });
  });

  it('goes on waiting for steps after a restart, and refuses a round it committed before it', async () => {
    let p = await connect();
    const runId = await createRelay();
    const posted = step(runId, 'train', taskFrame('train', runId, 1));
    await answerTraining(p, 1);
    expect((await posted).statusCode).toBe(200);
    // A step in flight (the sites training) when the coordinator stops: dropped, its caller told to post it again.
    const inFlight = step(runId, 'train', taskFrame('train', runId, 2, shifted(WEIGHTS, 4)));
    await Promise.all([p.a.task('train', 2), p.b.task('train', 2)]);
    await coordinator.close();
    const dropped = await inFlight;
    expect({ status: dropped.statusCode, code: dropped.json().error.code }).toEqual({ status: 503, code: 'E_BUSY' });
    for (const peer of peers.splice(0)) peer.close();

    await start();
    expect(coordinator.store.getRun(runId)!.status).toBe('running');
    p = await connect();
    const again = await step(runId, 'train', taskFrame('train', runId, 1));
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('E_DUPLICATE_UPDATE');
    // The dropped round again, now answered.
    const posted2 = step(runId, 'train', taskFrame('train', runId, 2, shifted(WEIGHTS, 4)));
    await answerTraining(p, 2);
    const res = await posted2;
    expect(res.statusCode, res.body).toBe(200);
    expect(logs.some((l) => l.includes(`run ${runId} resumed after round 1: relay for parent run national-7`))).toBe(true);
    const end = await step(runId, 'end');
    expect(end.json()).toMatchObject({ id: runId, status: 'completed' });
    expect(end.json().rounds.map((r: { round: number }) => r.round)).toEqual([1, 2]);
  });

  it('a step whose round fails fails the run, E_ROUND_FAILED naming who was missing', async () => {
    const p = await connect();
    const runId = await createRelay({ roundTimeoutSec: 1 });
    const posted = step(runId, 'train', taskFrame('train', runId, 1));
    const t = await p.a.task('train', 1);
    p.a.send(signedUpdateFrame(sites['site-a']!, { runId, round: 1, baseModelHash: t.header.modelHash, updateHash: hashWeights(t.weights), numExamples: 5 }, t.weights));
    const res = await posted;
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toEqual({ code: 'E_ROUND_FAILED', message: 'round 1: 1 of the 2 updates needed: the 1 s deadline passed with 1 of 2 updates in (no answer from site-b)' });
    expect(coordinator.store.getRun(runId)).toMatchObject({ status: 'failed', error: `E_ROUND_FAILED: ${res.json().error.message}` });
    expect((await step(runId, 'end')).json().error.code).toBe('E_RUN_FINISHED');
  });

  it("evaluates the parent's model at every connected site, pooled; too few evaluations fail the run", async () => {
    const p = await connect();
    const runId = await createRelay({ roundTimeoutSec: 1 });
    const answer = (peer: TestPeer, n: number, absErr: number, loss: number): void =>
      void peer.task('evaluate', 3).then((t) =>
        peer.send(JSON.stringify({ type: 'eval-result', v: 1, runId, round: 3, modelHash: t.header.modelHash, numExamples: n, loss, sums: { n, absErr, within20: 1, sqErr: absErr, sumY: 10, sumY2: 60 } })),
      );
    answer(p.a, 2, 4, 1);
    answer(p.b, 6, 3, 3);
    const res = await step(runId, 'evaluate', taskFrame('evaluate', runId, 3));
    expect(res.statusCode, res.body).toBe(200);
    // Loss (2·1 + 6·3) / 8 = 2.5; sums added.
    expect(res.json()).toEqual({ numExamples: 8, loss: 2.5, sums: { n: 8, absErr: 7, within20: 2, sqErr: 7, sumY: 20, sumY2: 120 }, sites: 2 });
    // Nothing committed: an evaluation is no round.
    expect(coordinator.store.ledger.head().length).toBe(0);

    // Only one of the two sites answers the next one.
    const next = step(runId, 'evaluate', taskFrame('evaluate', runId, 4));
    const t = await p.a.task('evaluate', 4);
    p.a.send(JSON.stringify({ type: 'eval-result', v: 1, runId, round: 4, modelHash: t.header.modelHash, numExamples: 2, loss: 1, sums: { n: 2, absErr: 1, within20: 1, sqErr: 1, sumY: 10, sumY2: 60 } }));
    const failed = await next;
    expect(failed.statusCode).toBe(409);
    expect(failed.json().error).toEqual({ code: 'E_ROUND_FAILED', message: 'evaluation of round 4: 1 of the 2 evaluations needed: the 1 s deadline passed with 1 of 2 evaluations in (no answer from site-b)' });
    expect(coordinator.store.getRun(runId)!.status).toBe('failed');
  });

  it('completes once no step has come for idleSec (10 s, the least allowed)', async () => {
    await connect();
    const runId = await createRelay({ relay: { parentRunId: 'national-7', idleSec: 10 } });
    await expect.poll(() => coordinator.store.getRun(runId)!.status, { timeout: 30_000, interval: 250 }).toBe('completed');
    expect(coordinator.store.getRun(runId)!.stopReason).toBe('relay idle for 10 s');
    expect((await step(runId, 'end')).json().error.code).toBe('E_RUN_FINISHED');
  }, 40_000);

  it('a cancel ends a relay run waiting for steps; its steps are refused', async () => {
    await connect();
    const runId = await createRelay();
    await expect.poll(() => coordinator.store.getRun(runId)!.status).toBe('running');
    expect((await coordinator.app.inject({ headers, method: 'POST', url: `/v1/runs/${runId}/cancel` })).statusCode).toBe(202);
    await expect.poll(() => coordinator.store.getRun(runId)!.status).toBe('cancelled');
    const res = await step(runId, 'statistics', {});
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('E_RUN_FINISHED');
  });

  it('refuses frames that do not fit: another kind, round 0, other shapes, NaN, a wrong hash, another version or study, JSON', async () => {
    await connect();
    const runId = await createRelay();
    const bad = async (body: Buffer | object, status: number, code: string): Promise<void> => {
      const res = await step(runId, 'train', body);
      expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status, code });
    };
    await bad(taskFrame('evaluate', runId, 1), 400, 'E_FRAME_HEADER');
    await bad(taskFrame('train', runId, 0), 400, 'E_FRAME_HEADER');
    await bad(taskFrame('train', runId, 1, [...WEIGHTS, { name: 'extra', shape: [1], data: new Float32Array(1) }]), 400, 'E_SHAPE_MISMATCH');
    await bad(encodeFrame({ v: PROTOCOL_VERSION, kind: 'train', runId, round: 1, modelHash: '0'.repeat(64), config: TASK }, WEIGHTS), 400, 'E_HASH_MISMATCH');
    await bad({ round: 1 }, 400, 'E_BAD_REQUEST');
    const nan = shifted(WEIGHTS, 0);
    nan[0]!.data[0] = Number.NaN;
    await bad(taskFrame('train', runId, 1, nan), 400, 'E_NON_FINITE');
    await bad(encodeFrame({ v: 2, kind: 'train', runId, round: 1, modelHash: hashWeights(WEIGHTS), config: TASK }, WEIGHTS), 400, 'E_PROTOCOL_VERSION');
    // Another study than the run's (here with feature groups, which no relay run takes).
    const grouped = { ...TASK, study: { ...TINY_STUDY, groups: [{ kind: 'numeric' as const, match: '^g_', missing: 'mean' as const }] } };
    await bad(encodeFrame({ v: PROTOCOL_VERSION, kind: 'train', runId, round: 1, modelHash: hashWeights(WEIGHTS), config: grouped }, WEIGHTS), 400, 'E_RELAY_SETTINGS');
    await bad(encodeFrame({ v: PROTOCOL_VERSION, kind: 'train', runId, round: 1, modelHash: hashWeights(WEIGHTS), config: { ...TASK, study: { ...TINY_STUDY, minRows: 3 } } }, WEIGHTS), 400, 'E_RELAY_SETTINGS');
    expect(coordinator.store.getRun(runId)!.status).toBe('running');
  });
});
