// Integration: a real coordinator (Fastify + ws on a loopback port, SQLite file) driven by
// protocol-level test peers that send good and bad updates.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import type { RunView } from '../../../cli/client/client.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { decodeFrame, encodeFrame } from '../../../shared/tensor-codec.js';
import { participantSigned, type LedgerEntry } from '../../../shared/ledger.js';
import { endorsementBody, sign } from '../../../shared/signing.js';
import type { Weights } from '../../../shared/tensors.js';
import { PROTOCOL_VERSION, type TaskHeader } from '../../../shared/wire.js';
import { registerTestSites, signedStatsReport, signedUpdateFrame, TestPeer, type TestSite } from '../../helpers/test-peer.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

let coordinator: Coordinator;
let url: string;
let sites: Record<string, TestSite>;
const logs: string[] = [];
// The data scientist's token: runs and the ledger.
let headers: { authorization: string };

async function start(opts: { heartbeatMs?: number } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fedrx-runner-'));
  coordinator = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: (l) => logs.push(l), ...opts });
  sites = registerTestSites(coordinator.store, ['site-a', 'site-b', 'site-c', 'site-d']);
  headers = { authorization: `Bearer ${coordinator.tokens.create('data-scientist').token}` };
  url = await coordinator.listen(0);
}

beforeEach(() => start());

afterEach(async () => {
  await coordinator.close();
});

const shifted = (w: Weights, by: number): Weights => w.map((t) => ({ ...t, data: t.data.map((x) => x + by) }));

function updateFrame(siteId: string, h: TaskHeader, weights: Weights, over: Record<string, unknown> = {}): Buffer {
  const fields = { runId: h.runId, round: h.round, baseModelHash: h.modelHash, updateHash: hashWeights(weights), numExamples: 10 };
  return signedUpdateFrame(sites[siteId]!, fields, weights, over);
}

async function connectAll(): Promise<Record<string, TestPeer>> {
  const peers: Record<string, TestPeer> = {};
  for (const s of ['a', 'b', 'c', 'd']) {
    peers[s] = await TestPeer.admit(url, sites[`site-${s}`]!);
    answerStats(peers[s], `site-${s}`, 'abcd'.indexOf(s) + 1);
  }
  return peers;
}

function answerEval(peer: TestPeer, round: number, n = 5): void {
  void peer.task('evaluate', round).then((t) => {
    // MAE = absErr / n = 2 / round.
    const sums = { n, absErr: (2 * n) / round, within20: 1, sqErr: 1, sumY: 10, sumY2: 30 };
    peer.send(JSON.stringify({ type: 'eval-result', v: 1, runId: t.header.runId, round, modelHash: t.header.modelHash, numExamples: n, loss: 1 / round, sums }));
  });
}

/** Site s reports 2 rows: x1 = s and s + 1, g = a and b, y = 10·s. */
function answerStats(peer: TestPeer, siteId: string, s: number): void {
  void peer.until((r) => r.json.find((m) => m.type === 'stats-request')).then((req) => {
    const stats = {
      rows: 2,
      numeric: { x1: { count: 2, sum: 2 * s + 1, sumSq: s * s + (s + 1) * (s + 1) } },
      levels: { g: [1, 1] },
      target: { count: 2, sum: 20 * s, sumSq: 200 * s * s },
    };
    peer.send(signedStatsReport(sites[siteId]!, req.runId as string, stats));
  });
}

describe('round runner with real sockets', () => {
  it('refuses bad updates with coded errors and completes rounds with the good ones', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 2, minSites: 2, roundTimeoutSec: 5 } });
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

    const ledger = (await coordinator.app.inject({ headers, url: '/v1/ledger' })).json();
    expect(ledger.entries.map((e: { round: number }) => e.round)).toEqual([0, 1, 2]);
    // Round 0: every site's statistics, merged: x1 ∈ {1,2,2,3,3,4,4,5} → mean 3, SD √1.5.
    expect(ledger.entries[0].participants.map((x: { siteId: string; numExamples: number }) => [x.siteId, x.numExamples])).toEqual([
      ['site-a', 2], ['site-b', 2], ['site-c', 2], ['site-d', 2],
    ]);
    expect(run.preprocessing).toMatchObject({ rows: 8, numeric: { x1: { mean: 3 } }, target: { mean: 25 } });
    expect(run.preprocessing!.numeric.x1!.sd).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(ledger.entries[0].preprocessingHash).toMatch(/^[0-9a-f]{64}$/);
    expect(ledger.entries[1].participants.map((x: { siteId: string; numExamples: number }) => [x.siteId, x.numExamples])).toEqual([
      ['site-a', 10],
      ['site-b', 30],
    ]);
    expect(ledger.entries[1].parentModelHash).toBe(ledger.entries[0].modelHash);
    expect((await coordinator.app.inject({ headers, url: '/v1/ledger/verify' })).json()).toMatchObject({ ok: true, length: 3 });
    // Every connected peer received the entries as they were committed.
    await p.b!.until((r) => r.json.filter((m) => m.type === 'ledger-entries').length >= 3);
    for (const s of Object.values(p)) s.close();
  });

  it('fails a round cleanly when fewer than minSites updates arrive by the deadline', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 3, minSites: 3, roundTimeoutSec: 1 } });
    const runId = res.json().id as string;
    const t1 = await p.a!.task('train', 1);
    p.a!.send(updateFrame('site-a', t1.header, t1.weights));
    p.b!.send(JSON.stringify({ type: 'task-error', v: 1, runId, round: 1, code: 'E_CSV_MISSING_COLUMN', message: 'column "x1" is missing' }));
    // A code that is not ours is refused at the socket: site-c stays silent as far as the round knows.
    p.c!.send(JSON.stringify({ type: 'task-error', v: 1, runId, round: 1, code: 'E_NOT_A_CODE', message: 'made up' }));
    await p.c!.errorWith('E_BAD_MESSAGE');
    const run = await waitForRun(runId);
    expect(run.status).toBe('failed');
    // c and d are connected but silent: the deadline, not a disconnection, closed the round.
    expect(run.error).toBe('E_ROUND_FAILED: round 1: 1 of the 3 updates needed: 1 refused or failed (site-b: E_CSV_MISSING_COLUMN); the 1 s deadline passed with 1 of 4 updates in (no answer from site-c, site-d)');
    const r1 = run.rounds.find((r) => r.round === 1)!;
    expect(r1.status).toBe('failed');
    expect(r1.sites.filter((s) => s.code === 'E_DEADLINE').map((s) => s.siteId)).toEqual(['site-c', 'site-d']);
    // Only round 0 (the initial model) is on the ledger.
    expect((await coordinator.app.inject({ headers, url: '/v1/ledger' })).json().length).toBe(1);
    for (const s of Object.values(p)) s.close();
  });

  it('a run asked to stop during a round ends cancelled at once: the round in flight is dropped, never committed', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 3, minSites: 2, roundTimeoutSec: 60 } });
    const runId = res.json().id as string;
    const t = await p.a!.task('train', 1);
    const cancel = await coordinator.app.inject({ headers, method: 'POST', url: `/v1/runs/${runId}/cancel` });
    expect(cancel.statusCode).toBe(202);
    // Well before the 60 s deadline: the open phase closed when the cancel came.
    const run = await waitForRun(runId);
    expect(run).toMatchObject({ status: 'cancelled', error: null, stopReason: expect.stringMatching(/^cancelled by data-scientist tok-[0-9a-f]{12}$/) });
    expect(run.rounds.map((r) => [r.round, r.status])).toEqual([[0, 'committed']]);
    expect((await coordinator.app.inject({ headers, url: '/v1/ledger' })).json().length).toBe(1);
    // A late update for the dropped round is refused, not folded into anything.
    p.a!.send(updateFrame('site-a', t.header, t.weights));
    expect((await p.a!.errorWith('E_WRONG_RUN')).runId).toBe(runId);
    expect(p.a!.received.tasks.some((x) => x.header.round === 2 || x.header.kind === 'evaluate')).toBe(false);
    for (const s of Object.values(p)) s.close();
  });
});

describe('signed updates and endorsements', () => {
  it('refuses forged and replayed updates, records every signature, and serves only endorsed models when asked to', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({
      headers,
      method: 'POST',
      url: '/v1/runs',
      payload: { study: TINY_STUDY, rounds: 2, minSites: 2, roundTimeoutSec: 5, serveEndorsedOnly: true, endorsementQuorum: 0.5 },
    });
    const runId = res.json().id as string;

    // Round 1: d first sends an update signed with c's key, then its own; everyone else is honest.
    const t1 = await p.a!.task('train', 1);
    const forged = signedUpdateFrame(sites['site-d']!, { runId, round: 1, baseModelHash: t1.header.modelHash, updateHash: hashWeights(t1.weights), numExamples: 99 }, t1.weights, {}, sites['site-c']!.keys);
    p.d!.send(forged);
    expect((await p.d!.errorWith('E_IDENTITY_MISMATCH')).message).toMatch(/another registered site/);
    const round1Frame = updateFrame('site-a', t1.header, shifted(t1.weights, 1));
    for (const s of ['a', 'b', 'c', 'd']) {
      p[s]!.send(s === 'a' ? round1Frame : updateFrame(`site-${s}`, t1.header, t1.weights));
      answerEval(p[s]!, 1);
    }
    // Round 2: a replays its round-1 update as is, then relabelled as round 2 under the old signature.
    const t2 = await p.a!.task('train', 2);
    p.a!.send(round1Frame);
    expect((await p.a!.errorWith('E_STALE_ROUND')).round).toBe(1);
    const relabelled = decodeFrame(round1Frame);
    p.a!.send(encodeFrame({ ...relabelled.header, round: 2, baseModelHash: t2.header.modelHash }, relabelled.weights));
    await p.a!.errorWith('E_BAD_SIGNATURE');
    for (const s of ['a', 'b', 'c', 'd']) {
      p[s]!.send(updateFrame(`site-${s}`, t2.header, t2.weights));
      answerEval(p[s]!, 2);
    }
    const run = await waitForRun(runId);
    expect(run.status, run.error ?? '').toBe('completed');

    const ledger = (await coordinator.app.inject({ headers, url: '/v1/ledger' })).json<{ entries: LedgerEntry[] }>().entries;
    expect(ledger).toHaveLength(3);
    // Every contribution on the ledger carries its site's signature, and only the honest ones are there.
    for (const e of ledger) {
      expect(e.participants.map((x) => x.siteId)).toEqual(['site-a', 'site-b', 'site-c', 'site-d']);
      for (const x of e.participants) expect(participantSigned(e, x, sites[x.siteId]!.keys.publicKey)).toBe(true);
    }
    expect(ledger[1]!.participants.find((x) => x.siteId === 'site-d')!.numExamples).toBe(10);

    // Nothing is endorsed yet: a serveEndorsedOnly run answers no clinician.
    const clinician = { authorization: `Bearer ${coordinator.tokens.create('clinician').token}` };
    const predict = () => coordinator.app.inject({ headers: clinician, method: 'POST', url: '/v1/predict', payload: { runId, features: { x1: 1, g: 'a' } } });
    expect((await predict()).json().error.code).toBe('E_NOT_ENDORSED');

    const endorse = (peer: TestPeer, site: TestSite, e: LedgerEntry, over: Record<string, unknown> = {}) =>
      peer.send(JSON.stringify({
        type: 'endorsement', v: 1, index: e.index, entryHash: e.entryHash,
        signature: sign('endorsement', endorsementBody(site.siteId, e.index, e.entryHash), site.keys.secretKey), ...over,
      }));
    const e1 = ledger[1]!;
    endorse(p.b!, sites['site-b']!, e1, { entryHash: ledger[2]!.entryHash });
    await p.b!.errorWith('E_ENDORSEMENT_MISMATCH');
    endorse(p.c!, sites['site-d']!, e1);
    await p.c!.errorWith('E_BAD_SIGNATURE');
    const outsider = registerTestSites(coordinator.store, ['site-e'])['site-e']!;
    const e = await TestPeer.admit(url, outsider);
    endorse(e, outsider, e1);
    await e.errorWith('E_NOT_PARTICIPANT');
    endorse(p.a!, sites['site-a']!, e1);
    const status = async () => (await coordinator.app.inject({ headers, url: '/v1/ledger/endorsements' })).json<{ entries: { index: number; endorsedBy: string[]; required: number; endorsed: boolean }[] }>().entries;
    await vi.waitFor(async () => expect((await status())[1]!.endorsedBy).toEqual(['site-a']));
    expect((await status())[1]).toMatchObject({ required: 2, endorsed: false });
    endorse(p.b!, sites['site-b']!, e1);
    await vi.waitFor(async () => expect((await status())[1]).toMatchObject({ endorsedBy: ['site-a', 'site-b'], endorsed: true }));

    // Entry 1 is endorsed, entry 2 is not: clinicians get round 1's model, with its provenance.
    const answer = (await predict()).json();
    expect(answer).toMatchObject({ modelHash: e1.modelHash, ledgerIndex: 1, round: 1 });
    const verdict = (await coordinator.app.inject({ headers, url: '/v1/ledger/verify' })).json();
    expect(verdict).toMatchObject({ ok: true, length: 3, unendorsed: [0, 2] });
    for (const x of [...Object.values(p), e]) x.close();
  });
});

describe('best round and early stopping', () => {
  /** Every site: an update shifted by 1 (a new model each round), and the given validation loss. */
  async function playRound(p: Record<string, TestPeer>, round: number, valLoss: number): Promise<void> {
    for (const s of ['a', 'b', 'c', 'd']) {
      const t = await p[s]!.task('train', round);
      p[s]!.send(updateFrame(`site-${s}`, t.header, shifted(t.weights, 1)));
      void p[s]!.task('evaluate', round).then((e) => {
        const sums = { n: 5, absErr: 5, within20: 1, sqErr: 5, sumY: 10, sumY2: 30 };
        // Validation sums give MAE = valLoss, so valMetric follows the loss.
        const validation = { numExamples: 4, loss: valLoss, sums: { ...sums, n: 4, absErr: 4 * valLoss } };
        p[s]!.send(JSON.stringify({ type: 'eval-result', v: 1, runId: e.header.runId, round, modelHash: e.header.modelHash, numExamples: 5, loss: 1, sums, validation }));
      });
    }
  }

  it('keeps the round of the lowest validation loss, stops when it rises for `patience` rounds, and serves that round (endorsed only when asked)', async () => {
    const p = await connectAll();
    const payload = { study: TINY_STUDY, rounds: 8, minSites: 4, roundTimeoutSec: 5, patience: 2, serveEndorsedOnly: true, endorsementQuorum: 0.25 };
    const runId = (await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload })).json().id as string;
    const losses = [0.9, 0.5, 0.6, 0.7];
    for (const [i, loss] of losses.entries()) await playRound(p, i + 1, loss);
    const run = await waitForRun(runId);
    expect(run.status, run.error ?? '').toBe('completed');
    expect(run.rounds.map((r) => r.round)).toEqual([0, 1, 2, 3, 4]);
    expect(run.bestRound).toBe(2);
    expect(run.stopReason).toBe('stopped early after round 4 of 8: validation loss has not improved for 2 rounds (best round 2, validation loss 0.5000)');
    expect(run.rounds.map((r) => r.metrics.bestRound)).toEqual([undefined, 1, 2, 2, 2]);
    expect(run.rounds[4]!.metrics).toMatchObject({ valExamples: 16, valLoss: 0.7, stoppedEarly: 1, evalLoss: 1 });
    expect(run.rounds[4]!.metrics.valMetric).toBeCloseTo(0.7, 10);
    expect(run.rounds[3]!.metrics.stoppedEarly).toBeUndefined();
    expect(logs.some((l) => l.includes('round 4/8') && l.includes('stopping early: validation loss has not improved for 2 rounds'))).toBe(true);

    // The ledger carries the choice inside the signed entries and still verifies.
    const ledger = (await coordinator.app.inject({ headers, url: '/v1/ledger' })).json<{ entries: LedgerEntry[] }>().entries;
    expect(ledger.map((e) => e.metrics.bestRound)).toEqual([undefined, 1, 2, 2, 2]);
    expect(ledger[4]!.metrics.stoppedEarly).toBe(1);
    expect((await coordinator.app.inject({ headers, url: '/v1/ledger/verify' })).json()).toMatchObject({ ok: true, length: 5 });

    // Served only once endorsed: entry 4 endorsed is not enough (it keeps round 2); entry 1 is
    // what entry 1 kept; once entry 2 is endorsed, clinicians get round 2, the best.
    const clinician = { authorization: `Bearer ${coordinator.tokens.create('clinician').token}` };
    const predict = async () => (await coordinator.app.inject({ headers: clinician, method: 'POST', url: '/v1/predict', payload: { runId, features: { x1: 1, g: 'a' } } })).json();
    const endorse = async (e: LedgerEntry) => {
      p.a!.send(JSON.stringify({ type: 'endorsement', v: 1, index: e.index, entryHash: e.entryHash, signature: sign('endorsement', endorsementBody('site-a', e.index, e.entryHash), sites['site-a']!.keys.secretKey) }));
      await vi.waitFor(async () => {
        const all = (await coordinator.app.inject({ headers, url: '/v1/ledger/endorsements' })).json<{ entries: { index: number; endorsed: boolean }[] }>().entries;
        expect(all[e.index]!.endorsed).toBe(true);
      });
    };
    await endorse(ledger[4]!);
    expect((await predict()).error.code).toBe('E_NOT_ENDORSED');
    await endorse(ledger[1]!);
    expect(await predict()).toMatchObject({ round: 1, modelHash: ledger[1]!.modelHash, ledgerIndex: 1 });
    await endorse(ledger[2]!);
    expect(await predict()).toMatchObject({ round: 2, modelHash: ledger[2]!.modelHash, ledgerIndex: 2, entryHash: ledger[2]!.entryHash });
    for (const x of Object.values(p)) x.close();
  });

  it('without validation figures keeps the last round and runs every round', async () => {
    const p = await connectAll();
    const runId = (await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 3, minSites: 4, roundTimeoutSec: 5, patience: 1 } })).json().id as string;
    for (let round = 1; round <= 3; round++) {
      for (const s of ['a', 'b', 'c', 'd']) {
        const t = await p[s]!.task('train', round);
        p[s]!.send(updateFrame(`site-${s}`, t.header, shifted(t.weights, 1)));
        answerEval(p[s]!, round);
      }
    }
    const run = await waitForRun(runId);
    expect([run.status, run.bestRound, run.stopReason]).toEqual(['completed', 3, null]);
    expect(run.rounds[3]!.metrics.valLoss).toBeUndefined();
    const clinician = { authorization: `Bearer ${coordinator.tokens.create('clinician').token}` };
    const answer = (await coordinator.app.inject({ headers: clinician, method: 'POST', url: '/v1/predict', payload: { runId, features: { x1: 1, g: 'a' } } })).json();
    expect(answer).toMatchObject({ round: 3, modelHash: run.rounds[3]!.modelHash });
    for (const x of Object.values(p)) x.close();
  });
});

describe('statistics phase', () => {
  it('fails the run at round 0 when too few sites report statistics, and says which refused', async () => {
    const peers: TestPeer[] = [];
    for (const s of ['a', 'b']) peers.push(await TestPeer.admit(url, sites[`site-${s}`]!));
    answerStats(peers[0]!, 'site-a', 1);
    void peers[1]!.until((r) => r.json.find((m) => m.type === 'stats-request')).then((req) =>
      peers[1]!.send(JSON.stringify({ type: 'task-error', v: 1, runId: req.runId, round: 0, code: 'E_CSV_TOO_FEW_ROWS', message: 'site has 4 usable rows, the study needs 10' })),
    );
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 2, minSites: 2, roundTimeoutSec: 5 } });
    const run = await waitForRun(res.json().id as string);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('E_ROUND_FAILED: statistics: 1 of the 2 statistics reports needed: 1 refused or failed (site-b: E_CSV_TOO_FEW_ROWS)');
    expect(run.preprocessing).toBeNull();
    expect((await coordinator.app.inject({ headers, url: '/v1/ledger' })).json().length).toBe(0);
    for (const p of peers) p.close();
  });

  it('does not use statistics over fewer rows than the study minimum, even when a site sends them', async () => {
    const peers: TestPeer[] = [];
    for (const s of ['a', 'b']) peers.push(await TestPeer.admit(url, sites[`site-${s}`]!));
    answerStats(peers[0]!, 'site-a', 1);
    answerStats(peers[1]!, 'site-b', 2);
    // Same two reports, but the study asks for 3 rows per site: both are refused, nothing is fixed.
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: { ...TINY_STUDY, minRows: 3 }, rounds: 2, minSites: 2, roundTimeoutSec: 5 } });
    const run = await waitForRun(res.json().id as string);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/site-a: E_STATS_TOO_FEW_ROWS/);
    expect(run.preprocessing).toBeNull();
    const err = await peers[1]!.errorWith('E_STATS_TOO_FEW_ROWS');
    expect(err.message).toBe('statistics over 2 rows, the study needs at least 3: not used');
    expect((await coordinator.app.inject({ headers, url: '/v1/ledger' })).json().length).toBe(0);
    for (const p of peers) p.close();
  });
});

async function waitForRun(id: string): Promise<RunView> {
  for (let i = 0; i < 200; i++) {
    const run = (await coordinator.app.inject({ headers, url: `/v1/runs/${id}` })).json<RunView>();
    if (run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled') return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('run did not end');
}

describe('heartbeats and round deadlines', () => {
  it('a round outlasting many heartbeats closes with the late updates; each site\'s ping round trip is shown', async () => {
    await coordinator.close();
    await start({ heartbeatMs: 100 });
    const logsFrom = logs.length;
    const p = await connectAll();
    for (const s of ['a', 'b', 'c', 'd']) answerEval(p[s]!, 1);
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 1, minSites: 4, roundTimeoutSec: 20 } });
    const runId = res.json().id as string;
    const tasks = await Promise.all(['a', 'b', 'c', 'd'].map((s) => p[s]!.task('train', 1)));
    // Answer after 15 heartbeat intervals: sites that answer pings are waited for, up to the round's timeout.
    await new Promise((r) => setTimeout(r, 1500));
    ['a', 'b', 'c', 'd'].forEach((s, i) => p[s]!.send(updateFrame(`site-${s}`, tasks[i]!.header, tasks[i]!.weights)));
    const run = await waitForRun(runId);
    expect(run.status, run.error ?? '').toBe('completed');
    expect(run.rounds.find((r) => r.round === 1)!.sites.map((x) => x.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    const sitesView = (await coordinator.app.inject({ headers, url: '/v1/sites' })).json<{ sites: { id: string; pingMs: number | null }[] }>();
    for (const x of sitesView.sites) {
      expect(x.pingMs).not.toBeNull();
      expect(x.pingMs!).toBeGreaterThanOrEqual(0);
      expect(x.pingMs!).toBeLessThan(1000);
    }
    expect(logs.slice(logsFrom).filter((l) => l.includes('disconnected'))).toEqual([]);
    for (const x of Object.values(p)) x.close();
  });

  it('a site that stops answering pings is disconnected, and the failed round says which and why', async () => {
    await coordinator.close();
    await start({ heartbeatMs: 100 });
    const p = await connectAll();
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 1, minSites: 4, roundTimeoutSec: 20 } });
    const tasks = await Promise.all(['a', 'b', 'c', 'd'].map((s) => p[s]!.task('train', 1)));
    p.d!.freeze();
    ['a', 'b', 'c'].forEach((s, i) => p[s]!.send(updateFrame(`site-${s}`, tasks[i]!.header, tasks[i]!.weights)));
    const run = await waitForRun(res.json().id as string);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('E_ROUND_FAILED: round 1: 3 of the 4 updates needed: 1 site disconnected (site-d)');
    const r1 = run.rounds.find((r) => r.round === 1)!;
    expect(r1.sites.find((x) => x.siteId === 'site-d')).toMatchObject({ status: 'failed', code: 'E_DISCONNECTED', reason: 'site disconnected during the round: no answer to the heartbeat within 0.1 s' });
    expect(logs).toContain('site site-d disconnected: no answer to the heartbeat within 0.1 s');
    for (const x of Object.values(p)) x.close();
  });
});

describe('calibrated prediction intervals: the sites\' sketches in the evaluation phase', () => {
  /** A regression sketch (2,001 counts, 0.005 wide) with `at[bin]` rows. */
  const sketch = (at: Record<number, number>): number[] => {
    const counts = new Array<number>(2001).fill(0);
    for (const [b, n] of Object.entries(at)) counts[Number(b)] = n;
    return counts;
  };
  function answerEvalWith(peer: TestPeer, round: number, calibration: { numExamples: number; counts: number[]; sites?: number }): void {
    void peer.task('evaluate', round).then((t) => {
      const sums = { n: 5, absErr: 5, within20: 1, sqErr: 1, sumY: 10, sumY2: 30 };
      peer.send(JSON.stringify({ type: 'eval-result', v: 1, runId: t.header.runId, round, modelHash: t.header.modelHash, numExamples: 5, loss: 1, sums, calibration }));
    });
  }

  it('merges good sketches into the entry\'s quantile at the run\'s coverage; a sketch of the wrong size, with a negative count or the wrong total is refused with E_BAD_SKETCH and counts for nothing', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 2, minSites: 2, roundTimeoutSec: 5, coverage: 0.8 } });
    expect(res.statusCode).toBe(201);
    const runId = res.json().id as string;
    answerEvalWith(p.a!, 1, { numExamples: 4, counts: sketch({ 0: 1, 100: 3 }) });
    answerEvalWith(p.b!, 1, { numExamples: 4, counts: sketch({ 200: 4 }) });
    // Round 2: a claims to pool more sites than it has rows (refused); b is a region pooling 2 sites.
    answerEvalWith(p.a!, 2, { numExamples: 4, counts: sketch({ 0: 1, 100: 3 }), sites: 9 });
    answerEvalWith(p.b!, 2, { numExamples: 4, counts: sketch({ 200: 4 }), sites: 2 });
    answerEvalWith(p.c!, 1, { numExamples: 4, counts: [4, 0, 0] });
    answerEvalWith(p.d!, 1, { numExamples: 4, counts: sketch({ 0: 5, 1: -1 }) });
    answerEvalWith(p.c!, 2, { numExamples: 4, counts: sketch({ 0: 3 }) });
    // Round 2: d's 4 scores lie beyond 10 SD (the overflow bin): b's 4 and d's 4 rows from 3 sites, rank ⌈(8 + 3)·0.8⌉ = 9 > 8: unbounded.
    answerEvalWith(p.d!, 2, { numExamples: 4, counts: sketch({ 2000: 4 }) });
    for (const round of [1, 2]) {
      for (const s of ['a', 'b', 'c', 'd']) {
        const t = await p[s]!.task('train', round);
        p[s]!.send(updateFrame(`site-${s}`, t.header, t.weights));
      }
    }
    expect((await p.c!.errorWith('E_BAD_SKETCH')).message).toMatch(/2001/);
    expect((await p.d!.errorWith('E_BAD_SKETCH')).message).toMatch(/not a whole number ≥ 0/);
    const run = await waitForRun(runId);
    expect(run.status, run.error ?? '').toBe('completed');
    // c's second sketch counts 3 scores for 4 rows.
    const refusals = await p.c!.until((r) => r.json.filter((m) => m.code === 'E_BAD_SKETCH').length === 2 && r.json.filter((m) => m.code === 'E_BAD_SKETCH'));
    expect(String(refusals[1]!.message)).toMatch(/counts 3 scores for 4 calibration rows/);

    const entries = (await coordinator.app.inject({ headers, url: '/v1/ledger' })).json<{ entries: LedgerEntry[] }>().entries;
    // Round 1: a and b only: N = 8, K = 2, rank ⌈10 · 0.8⌉ = 8: the 8th score is in bin 200, (1.000, 1.005].
    expect(entries[1]!.conformal).toMatchObject({ kind: 'interval', coverage: 0.8, calibrationRows: 8, sites: 2 });
    expect(entries[1]!.conformal!.quantile).toBeCloseTo(1.005, 12);
    const r1 = run.rounds.find((r) => r.round === 1)!;
    expect(r1.metrics).toMatchObject({ evalSites: 2, calibrationRows: 8, coverage: 0.8 });
    expect(r1.metrics.conformalQuantile).toBeCloseTo(1.005, 12);
    // Round 2: unbounded, recorded as null and left out of the metrics.
    expect(entries[2]!.conformal).toEqual({ kind: 'interval', coverage: 0.8, quantile: null, calibrationRows: 8, sites: 3 });
    expect((await p.a!.errorWith('E_BAD_SKETCH')).message).toMatch(/pools 9 sites' scores but holds 4 rows/);
    expect(run.rounds.find((r) => r.round === 2)!.metrics.conformalQuantile).toBeUndefined();
    expect(entries[0]!.conformal).toBeUndefined();
    expect((await coordinator.app.inject({ headers, url: '/v1/ledger/verify' })).json()).toMatchObject({ ok: true, length: 3 });
    for (const s of Object.values(p)) s.close();
  });

  it('pools per-group sums of a groupBy study into the entry; sums of an unknown level or the wrong total are refused', async () => {
    const p = await connectAll();
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: { ...TINY_STUDY, groupBy: 'g' }, rounds: 1, minSites: 2, roundTimeoutSec: 5 } });
    expect(res.statusCode).toBe(201);
    const sums = (n: number, absErr: number) => ({ n, absErr, within20: 0, sqErr: absErr, sumY: 0, sumY2: 0 });
    const answer = (peer: TestPeer, groups: unknown): void => {
      void peer.task('evaluate', 1).then((t) => {
        peer.send(JSON.stringify({ type: 'eval-result', v: 1, runId: t.header.runId, round: 1, modelHash: t.header.modelHash, numExamples: 5, loss: 1, sums: sums(5, 10), groups }));
      });
    };
    answer(p.a!, [{ level: 'a', sums: sums(3, 3) }, { level: 'b', sums: sums(2, 7) }]);
    answer(p.b!, [{ level: 'a', sums: sums(5, 10) }]);
    answer(p.c!, [{ level: 'zz', sums: sums(5, 10) }]);
    answer(p.d!, [{ level: 'a', sums: sums(4, 10) }]);
    for (const s of ['a', 'b', 'c', 'd']) {
      const t = await p[s]!.task('train', 1);
      p[s]!.send(updateFrame(`site-${s}`, t.header, t.weights));
    }
    expect((await p.c!.errorWith('E_BAD_MESSAGE')).message).toMatch(/not one of the study's groupBy levels/);
    expect((await p.d!.errorWith('E_BAD_MESSAGE')).message).toMatch(/count 4 rows, the evaluation 5/);
    const run = await waitForRun(res.json().id as string);
    expect(run.status, run.error ?? '').toBe('completed');
    // a: 3 + 5 rows, MAE (3 + 10) / 8; b: 2 rows, MAE 3.5.
    expect(run.rounds.find((r) => r.round === 1)!.metrics).toMatchObject({ evalSites: 2, 'group.a.n': 8, 'group.a.mae': 13 / 8, 'group.b.n': 2, 'group.b.mae': 3.5 });
    for (const x of Object.values(p)) x.close();
    // A groupBy that names no categorical feature is refused when the run is made.
    const bad = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: { ...TINY_STUDY, groupBy: 'x1' } } });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'E_BAD_REQUEST']);
  });

  it('refuses a run whose coverage is 0 or 1 with E_BAD_COVERAGE, before it is queued', async () => {
    for (const coverage of [0, 1, 1.5]) {
      const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, coverage } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('E_BAD_COVERAGE');
    }
    expect((await coordinator.app.inject({ headers, url: '/v1/runs' })).json().runs).toEqual([]);
  });
});
