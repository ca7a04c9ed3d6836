// Integration: a real coordinator (Fastify + ws on a loopback port, SQLite file) driven by
// protocol-level test peers that send good and bad updates.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../coordinator/app.js';
import type { RunView } from '../../coordinator/client.js';
import { hashWeights } from '../../shared/model-hash.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { PROTOCOL_VERSION, type TaskHeader } from '../../shared/wire.js';
import { TestPeer } from '../helpers/test-peer.js';
import { TINY_STUDY } from '../helpers/tiny-study.js';

let coordinator: Coordinator;
let url: string;
const logs: string[] = [];

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrx-runner-'));
  coordinator = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: (l) => logs.push(l) });
  for (const s of ['a', 'b', 'c', 'd']) coordinator.store.addSite(`site-${s}`, `tok-${s}`);
  url = await coordinator.listen(0);
});

afterEach(async () => {
  await coordinator.close();
});

const shifted = (w: Weights, by: number): Weights => w.map((t) => ({ ...t, data: t.data.map((x) => x + by) }));

function updateFrame(siteId: string, h: TaskHeader, weights: Weights, over: Record<string, unknown> = {}): Buffer {
  return encodeFrame(
    { v: PROTOCOL_VERSION, kind: 'update', runId: h.runId, round: h.round, siteId, baseModelHash: h.modelHash, updateHash: hashWeights(weights), numExamples: 10, trainLoss: 0.5, ...over },
    weights,
  );
}

async function connectAll(): Promise<Record<string, TestPeer>> {
  const peers: Record<string, TestPeer> = {};
  for (const s of ['a', 'b', 'c', 'd']) {
    peers[s] = await TestPeer.connect(url, TestPeer.hello(`site-${s}`, `tok-${s}`));
    await peers[s].until((r) => r.json.find((m) => m.type === 'welcome'));
  }
  return peers;
}

function answerEval(peer: TestPeer, round: number, n = 5): void {
  void peer.task('evaluate', round).then((t) =>
    peer.send(JSON.stringify({ type: 'eval-result', v: 1, runId: t.header.runId, round, modelHash: t.header.modelHash, numExamples: n, loss: 1 / round, metric: 2 / round })),
  );
}

describe('round runner with real sockets', () => {
  it('refuses bad updates with coded errors and completes rounds with the good ones', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({ method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 2, minSites: 2, roundTimeoutSec: 5 } });
    expect(res.statusCode).toBe(201);
    const runId = res.json().id as string;

    // Round 1: a and b good (a also sends a duplicate), c sends NaN, d sends a wrong shape.
    const t1 = await p.a!.task('train', 1);
    const g = t1.weights;
    expect(hashWeights(g)).toBe(t1.header.modelHash);
    p.a!.send(updateFrame('site-a', t1.header, shifted(g, 1), { numExamples: 10 }));
    p.a!.send(updateFrame('site-a', t1.header, shifted(g, 1), { numExamples: 10 }));
    p.b!.send(updateFrame('site-b', (await p.b!.task('train', 1)).header, shifted(g, 5), { numExamples: 30 }));
    const nan = shifted(g, 0);
    nan[0]!.data[0] = Number.NaN;
    p.c!.send(updateFrame('site-c', (await p.c!.task('train', 1)).header, nan));
    const wrong: Weights = [{ name: 'dense0/kernel', shape: [3, 1], data: new Float32Array(3) }, g[1]!];
    p.d!.send(updateFrame('site-d', (await p.d!.task('train', 1)).header, wrong));

    expect((await p.a!.errorWith('E_DUPLICATE_UPDATE')).round).toBe(1);
    expect((await p.c!.errorWith('E_NON_FINITE')).message).toMatch(/dense0\/kernel/);
    expect((await p.d!.errorWith('E_SHAPE_MISMATCH')).message).toMatch(/shape/);
    for (const s of ['a', 'b', 'c', 'd']) answerEval(p[s]!, 1);

    // Round 2: stale and wrong-run frames are refused; then everyone sends a good update.
    const t2 = await p.a!.task('train', 2);
    // FedAvg of a (n=10, +1) and b (n=30, +5): global + (10*1 + 30*5)/40 = global + 4.
    const expected = shifted(g, 4);
    expect(t2.header.modelHash).toBe(hashWeights(expected));
    p.a!.send(updateFrame('site-a', t1.header, shifted(g, 1)));
    expect((await p.a!.errorWith('E_STALE_ROUND')).round).toBe(1);
    p.a!.send(updateFrame('site-a', { ...t2.header, runId: 'run-00000000' }, t2.weights));
    await p.a!.errorWith('E_WRONG_RUN');
    for (const s of ['a', 'b', 'c', 'd']) {
      const t = await p[s]!.task('train', 2);
      p[s]!.send(updateFrame(`site-${s}`, t.header, t.weights));
      answerEval(p[s]!, 2);
    }

    const run = await waitForRun(runId);
    expect(run.status).toBe('completed');
    const r1 = run.rounds.find((r) => r.round === 1)!;
    expect(r1.metrics.sites).toBe(2);
    expect(r1.metrics.evalMetric).toBeCloseTo(2, 10);
    const byId = Object.fromEntries(r1.sites.map((s) => [s.siteId, s]));
    expect(byId['site-a']!.status).toBe('accepted');
    expect(byId['site-c']).toMatchObject({ status: 'rejected', code: 'E_NON_FINITE' });
    expect(byId['site-d']).toMatchObject({ status: 'rejected', code: 'E_SHAPE_MISMATCH' });

    const ledger = (await coordinator.app.inject({ url: '/v1/ledger' })).json();
    expect(ledger.entries.map((e: { round: number }) => e.round)).toEqual([0, 1, 2]);
    expect(ledger.entries[1].participants.map((x: { siteId: string; numExamples: number }) => [x.siteId, x.numExamples])).toEqual([
      ['site-a', 10],
      ['site-b', 30],
    ]);
    expect(ledger.entries[1].parentModelHash).toBe(ledger.entries[0].modelHash);
    expect((await coordinator.app.inject({ url: '/v1/ledger/verify' })).json()).toMatchObject({ ok: true, length: 3 });
    // Every connected peer received the entries as they were committed.
    await p.b!.until((r) => r.json.filter((m) => m.type === 'ledger-entries').length >= 3);
    for (const s of Object.values(p)) s.close();
  });

  it('fails a round cleanly when fewer than minSites updates arrive by the deadline', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({ method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 3, minSites: 3, roundTimeoutSec: 1 } });
    const runId = res.json().id as string;
    const t1 = await p.a!.task('train', 1);
    p.a!.send(updateFrame('site-a', t1.header, t1.weights));
    p.b!.send(JSON.stringify({ type: 'task-error', v: 1, runId, round: 1, code: 'E_CSV_MISSING_COLUMN', message: 'column "x1" is missing' }));
    const run = await waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/round 1: 1 of the 3 updates needed/);
    expect(run.error).toMatch(/site-b: E_CSV_MISSING_COLUMN/);
    const r1 = run.rounds.find((r) => r.round === 1)!;
    expect(r1.status).toBe('failed');
    // Only round 0 (the initial model) is on the ledger.
    expect((await coordinator.app.inject({ url: '/v1/ledger' })).json().length).toBe(1);
    for (const s of Object.values(p)) s.close();
  });
});

async function waitForRun(id: string): Promise<RunView> {
  for (let i = 0; i < 200; i++) {
    const run = (await coordinator.app.inject({ url: `/v1/runs/${id}` })).json<RunView>();
    if (run.status === 'completed' || run.status === 'failed') return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('run did not end');
}
