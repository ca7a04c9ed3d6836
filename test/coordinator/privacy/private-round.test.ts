// Integration: a DP run on a real coordinator (loopback sockets, SQLite file) with protocol-level
// test peers: the train request carries the DP settings, an update over the clip is refused, every
// site counts once, and each committed entry carries the ε the chain gives.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import type { LedgerEntry } from '../../../shared/ledger.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { deltaNorm } from '../../../shared/privacy/private-update.js';
import { privacyFromChain, privacyMismatches } from '../../../shared/privacy/privacy-from-chain.js';
import { epsilonOf } from '../../../shared/privacy/rdp.js';
import type { Weights } from '../../../shared/tensors.js';
import type { TaskHeader } from '../../../shared/wire.js';
import { registerTestSites, signedUpdateFrame, TestPeer, type TestSite } from '../../helpers/test-peer.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';
import { admitTinySite, answerEval, waitForRun } from '../../helpers/tiny-run.js';

let coordinator: Coordinator;
let url: string;
let sites: Record<string, TestSite>;
let ds: { authorization: string };
let auditor: { authorization: string };

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrx-dp-'));
  coordinator = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {} });
  sites = registerTestSites(coordinator.store, ['site-a', 'site-b', 'site-c', 'site-d']);
  ds = { authorization: `Bearer ${coordinator.tokens.create('data-scientist').token}` };
  auditor = { authorization: `Bearer ${coordinator.tokens.create('auditor').token}` };
  url = await coordinator.listen(0);
});

afterEach(async () => {
  await coordinator.close();
});

/** The global model moved by `norm` along its first coordinate. */
const moved = (w: Weights, norm: number): Weights => w.map((t, k) => ({ ...t, data: t.data.map((x, i) => (k === 0 && i === 0 ? x + norm : x)) }));

function updateFrame(siteId: string, h: TaskHeader, weights: Weights, numExamples: number): Buffer {
  return signedUpdateFrame(sites[siteId]!, { runId: h.runId, round: h.round, baseModelHash: h.modelHash, updateHash: hashWeights(weights), numExamples }, weights);
}

const admit = (id: string): Promise<TestPeer> => admitTinySite(url, sites[id]!);

describe('a DP-FedAvg run', () => {
  it('sends the DP settings, refuses an update over the clip, and records ε the chain recomputes', async () => {
    // 4 registered, 3 connected: q = 3/4
    const p = { a: await admit('site-a'), b: await admit('site-b'), c: await admit('site-c') };
    const dp = { noiseMultiplier: 1.5, clip: 0.5, delta: 0.01 };
    const res = await coordinator.app.inject({ headers: ds, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 2, minSites: 2, roundTimeoutSec: 5, dp } });
    expect(res.statusCode).toBe(201);
    const runId = res.json().id as string;

    for (const round of [1, 2]) {
      const t = await p.a.task('train', round);
      expect(t.header.dp).toEqual({ clip: 0.5, noiseStd: 0, noiseMultiplier: 1.5, samplingRate: 0.75, delta: 0.01, roundsLeft: 3 - round });
      p.a.send(updateFrame('site-a', t.header, moved(t.weights, 0.5), 10));
      p.b.send(updateFrame('site-b', (await p.b.task('train', round)).header, moved(t.weights, 0.3), 1000));
      const over = moved(t.weights, 0.51);
      expect(deltaNorm(t.weights, over)).toBeGreaterThan(0.5001);
      p.c.send(updateFrame('site-c', (await p.c.task('train', round)).header, over, 10));
      expect((await p.c.errorWith('E_CLIP_EXCEEDED')).message).toMatch(/over the run's clip 0.5/);
      for (const peer of Object.values(p)) answerEval(peer, round);
    }
    const run = await waitForRun(coordinator, ds, runId);
    expect(run.status).toBe('completed');
    expect(run.rounds.find((r) => r.round === 1)!.sites.find((s) => s.siteId === 'site-c')).toMatchObject({ status: 'rejected', code: 'E_CLIP_EXCEEDED' });

    const chain = (await coordinator.app.inject({ headers: ds, url: '/v1/ledger' })).json<{ entries: LedgerEntry[] }>().entries;
    expect(chain.map((e) => e.privacy === undefined)).toEqual([true, false, false]);
    const e2 = chain[2]!.privacy!;
    expect(e2).toMatchObject({ mechanism: 'gaussian-sum', noiseMultiplier: 1.5, sigma: 1.5, clip: 0.5, delta: 0.01, samplingRate: 0.75 });
    expect(e2.runEpsilon).toBeCloseTo(epsilonOf([{ q: 0.75, sigma: 1.5, steps: 2 }], 0.01), 12);
    expect(e2.siteEpsilon).toEqual([
      { siteId: 'site-a', epsilon: e2.runEpsilon },
      { siteId: 'site-b', epsilon: e2.runEpsilon },
    ]);
    expect(chain[1]!.privacy!.runEpsilon).toBeLessThan(e2.runEpsilon);
    expect(privacyMismatches(chain)).toEqual([]);

    // The report is the chain's recomputation, beside the (absent) budgets.
    const report = (await coordinator.app.inject({ headers: auditor, url: '/v1/privacy' })).json();
    const recomputed = privacyFromChain(chain);
    expect(report.runs).toEqual(recomputed.runs);
    expect(report.sites.find((s: { siteId: string }) => s.siteId === 'site-a')).toEqual({ ...recomputed.sites.find((s) => s.siteId === 'site-a'), budget: null, remaining: null });
    expect(report.sites.find((s: { siteId: string }) => s.siteId === 'site-d')).toMatchObject({ privateRounds: 0, epsilon: 0 });
    for (const peer of Object.values(p)) peer.close();
  });
});

describe('run start with DP settings and budgets', () => {
  const start = (payload: Record<string, unknown>) => coordinator.app.inject({ headers: ds, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, ...payload } });
  const runCount = async (): Promise<number> => (await coordinator.app.inject({ headers: ds, url: '/v1/runs' })).json().runs.length;

  it('refuses a noise multiplier of 0 or below, a clip of 0, δ ≥ 1/n and DP on an exact fit with E_DP_SETTINGS, creating no run', async () => {
    for (const dp of [
      { noiseMultiplier: 0, clip: 1 },
      { noiseMultiplier: -1, clip: 1 },
      { noiseMultiplier: 1, clip: 0 },
      { noiseMultiplier: 1, clip: -2 },
      { noiseMultiplier: 1, clip: 1, delta: 0.25 }, // n = 4 registered sites: δ must be below 0.25
      { noiseMultiplier: 1, clip: 1, delta: 1 },
    ]) {
      const res = await start({ dp });
      expect(res.statusCode, JSON.stringify(dp)).toBe(400);
      expect(res.json().error.code).toBe('E_DP_SETTINGS');
    }
    expect((await start({ dp: { noiseMultiplier: 1, clip: 1 }, strategy: 'exact', l2: 0.1 })).json().error.code).toBe('E_DP_SETTINGS');
    expect((await start({ dp: { noiseMultiplier: 1, clip: 1 }, strategy: 'median' })).json().error).toMatchObject({ code: 'E_DP_SETTINGS', message: expect.stringMatching(/median needs each site's update apart/) });
    expect(await runCount()).toBe(0);
    const ok = await start({ dp: { noiseMultiplier: 1, clip: 1 } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().config.dp).toEqual({ noiseMultiplier: 1, clip: 1, delta: 4 ** -1.1 });
  });

  it('refuses a run that could take a site past its budget, naming it, and a run without DP once any site has one', async () => {
    const admin = { authorization: `Bearer ${coordinator.tokens.create('admin', 'ops').token}` };
    const setBudget = (site: string, epsilon: number | null) => coordinator.app.inject({ headers: admin, method: 'PUT', url: `/v1/privacy/budgets/${site}`, payload: { epsilon } });
    expect((await setBudget('site-b', 2)).json()).toMatchObject({ siteId: 'site-b', epsilon: 2, setBy: expect.stringMatching(/^admin ops \(tok-/) });
    expect((await setBudget('site-zz', 2)).statusCode).toBe(404);
    expect((await setBudget('site-b', -1)).statusCode).toBe(400);

    // 10 rounds at Z = 1 spend far more than 2 (q = 1, δ = 4^-1.1)
    const over = await start({ rounds: 10, dp: { noiseMultiplier: 1, clip: 1 } });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('E_BUDGET_EXCEEDED');
    expect(over.json().error.message).toMatch(/site-b \(budget 2, spent 0\.000, after this run up to \d+\.\d{3}\)/);
    expect(over.json().error.message).not.toMatch(/site-a/);
    const plain = await start({ rounds: 2 });
    expect(plain.json().error).toMatchObject({ code: 'E_BUDGET_EXCEEDED', message: expect.stringMatching(/without differential privacy.*site-b \(budget 2, spent 0\.000, after this run up to ∞\)/) });
    expect(await runCount()).toBe(0);

    // Enough noise for 2 rounds fits; lifting the budget lets a plain run start again.
    expect((await start({ rounds: 2, dp: { noiseMultiplier: 5, clip: 1 } })).statusCode).toBe(201);
    await setBudget('site-b', null);
    expect((await start({ rounds: 2 })).statusCode).toBe(201);
    const report = (await coordinator.app.inject({ headers: admin, url: '/v1/privacy' })).json();
    expect(report.budgetChanges.map((c: { epsilon: number | null }) => c.epsilon)).toEqual([2, null]);
    expect(report.sites.every((s: { budget: number | null }) => s.budget === null)).toBe(true);
  });
});
