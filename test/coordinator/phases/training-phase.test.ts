// Integration: a run that compresses its updates, on a real coordinator (loopback sockets, SQLite
// file) with protocol-level test peers: the task carries the run's compression, the config hash
// covers it, a compressed update is decoded and added to the global model before FedAvg folds it,
// and updates that do not fit the run are refused with their codes.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { meanOf } from '../../../coordinator/strategies/aggregate.js';
import type { Compression } from '../../../shared/compression/settings.js';
import { packSparse } from '../../../shared/compression/sparse.js';
import { compressUpdate, reconstructUpdate, type Payload } from '../../../shared/compression/update-codec.js';
import { encodeCompressedUpdate } from '../../../shared/compression/wire.js';
import { hashConfig, type LedgerEntry } from '../../../shared/ledger.js';
import { hashCompressed, hashWeights } from '../../../shared/model-hash.js';
import { sign, updateBody } from '../../../shared/signing.js';
import type { Weights } from '../../../shared/tensors.js';
import type { TaskHeader } from '../../../shared/wire.js';
import { registerTestSites, signedUpdateFrame, TestPeer, type TestSite } from '../../helpers/test-peer.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';
import { admitTinySite, answerEval, waitForRun } from '../../helpers/tiny-run.js';

let coordinator: Coordinator;
let url: string;
let sites: Record<string, TestSite>;
let ds: { authorization: string };
const SITES = ['site-a', 'site-b', 'site-c', 'site-d', 'site-e'];

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrx-compress-'));
  coordinator = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {} });
  sites = registerTestSites(coordinator.store, SITES);
  ds = { authorization: `Bearer ${coordinator.tokens.create('data-scientist').token}` };
  url = await coordinator.listen(0);
});

afterEach(async () => {
  await coordinator.close();
});

const admit = (id: string): Promise<TestPeer> => admitTinySite(url, sites[id]!);

/** A compressed update as an agent sends it, signed over the payload's hash. */
function compressedFrame(siteId: string, h: TaskHeader, payload: Payload, numExamples = 10): Buffer {
  const signed = { runId: h.runId, round: h.round, siteId, baseModelHash: h.modelHash, updateHash: hashCompressed(payload.codec, payload.data), numExamples };
  return encodeCompressedUpdate({ ...signed, trainLoss: 0.5, signature: sign('update', updateBody(signed), sites[siteId]!.keys.secretKey) }, payload);
}

/** Each weight moved by `step` times its flat index + 1. */
const moved = (w: Weights, step: number): Weights => {
  let i = 0;
  return w.map((t) => ({ ...t, data: t.data.map((x) => x + step * ++i) }));
};

describe('a run with top-k compressed updates', () => {
  it('sends the setting to the sites, folds global + each decoded change, refuses what does not fit, and counts the bytes received', async () => {
    const p = Object.fromEntries(await Promise.all(SITES.map(async (id) => [id, await admit(id)] as const))) as Record<string, TestPeer>;
    const res = await coordinator.app.inject({
      headers: ds,
      method: 'POST',
      url: '/v1/runs',
      payload: { study: TINY_STUDY, rounds: 1, minSites: 2, roundTimeoutSec: 10, compression: 'topk', topkFraction: 0.5 },
    });
    expect(res.statusCode).toBe(201);
    const runId = res.json().id as string;
    const c: Compression = { codec: 'topk', fraction: 0.5 };
    expect(res.json().config.compression).toEqual(c);

    const t = await p['site-a']!.task('train', 1);
    expect(t.header.config.compression).toEqual(c);
    const params = t.weights.reduce((n, w) => n + w.data.length, 0);
    const k = Math.ceil(params / 2);
    // Two honest sites: their k largest changes each.
    const a = compressUpdate(t.weights, moved(t.weights, 0.25), c, null).payload;
    const d = compressUpdate(t.weights, moved(t.weights, -0.5), c, null).payload;
    const frames = { a: compressedFrame('site-a', t.header, a), d: compressedFrame('site-d', (await p['site-d']!.task('train', 1)).header, d) };
    p['site-a']!.send(frames.a);
    p['site-d']!.send(frames.d);
    // Float32 weights in a compressed run.
    const plain = moved(t.weights, 1);
    p['site-b']!.send(signedUpdateFrame(sites['site-b']!, { runId, round: 1, baseModelHash: t.header.modelHash, updateHash: hashWeights(plain), numExamples: 10 }, plain));
    expect((await p['site-b']!.errorWith('E_COMPRESSED_UPDATE')).message).toMatch(/sends its updates as top-k 50%, not float32 weights/);
    // Indices out of order (attacker-controlled): refused before anything is allocated.
    const backwards: Payload = { codec: 'topk', data: packSparse({ indices: Uint32Array.from({ length: k }, (_, j) => k - 1 - j), values: new Float32Array(k).fill(1) }) };
    p['site-c']!.send(compressedFrame('site-c', t.header, backwards));
    expect((await p['site-c']!.errorWith('E_COMPRESSED_UPDATE')).message).toMatch(/strictly increasing/);
    // A NaN among the values.
    const nan: Payload = { codec: 'topk', data: packSparse({ indices: Uint32Array.from({ length: k }, (_, j) => j), values: new Float32Array(k).fill(Number.NaN) }) };
    p['site-e']!.send(compressedFrame('site-e', t.header, nan));
    await p['site-e']!.errorWith('E_NON_FINITE');
    for (const peer of Object.values(p)) answerEval(peer, 1);

    const run = await waitForRun(coordinator, ds, runId);
    expect(run.status).toBe('completed');
    const r1 = run.rounds.find((r) => r.round === 1)!;
    expect(r1.sites.map((s) => [s.siteId, s.status, s.code ?? null])).toEqual([
      ['site-a', 'accepted', null],
      ['site-b', 'rejected', 'E_COMPRESSED_UPDATE'],
      ['site-c', 'rejected', 'E_COMPRESSED_UPDATE'],
      ['site-d', 'accepted', null],
      ['site-e', 'rejected', 'E_NON_FINITE'],
    ]);
    expect(r1.metrics.updateBytes).toBe(frames.a.length + frames.d.length);
    // FedAvg of the two rebuilt models (global + each decoded change), in FedAvg's own arithmetic.
    const ra = reconstructUpdate(t.weights, a, c);
    const rd = reconstructUpdate(t.weights, d, c);
    const mean = ra.map((w, i) => ({ ...w, data: meanOf(Float64Array.from(w.data, (x, j) => 10 * x + 10 * rd[i]!.data[j]!), 20) }));
    expect(r1.modelHash).toBe(hashWeights(mean));

    // The ledger names what each site signed (the payload as sent), and the config hash covers the compression.
    const chain = (await coordinator.app.inject({ headers: ds, url: '/v1/ledger' })).json<{ entries: LedgerEntry[] }>().entries;
    const entry = chain.find((e) => e.runId === runId && e.round === 1)!;
    expect(entry.participants.map((x) => x.updateHash)).toEqual([hashCompressed('topk', a.data), hashCompressed('topk', d.data)]);
    const stored = coordinator.store.getRun(runId)!.config;
    expect(entry.configHash).toBe(hashConfig(stored));
    const { compression: _c, ...uncompressed } = stored;
    expect(hashConfig(uncompressed)).not.toBe(entry.configHash);
    for (const peer of Object.values(p)) peer.close();
  });
});

describe('run start with compression', () => {
  const start = (payload: Record<string, unknown>) => coordinator.app.inject({ headers: ds, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, ...payload } });
  const runCount = async (): Promise<number> => (await coordinator.app.inject({ headers: ds, url: '/v1/runs' })).json().runs.length;

  it('refuses an unknown codec, a fraction outside (0, 1), a fraction without topk, and pairings that cannot work, with E_COMPRESSION_SETTINGS, creating no run', async () => {
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ compression: 'gzip' }, /must be one of none, float16, topk/],
      [{ compression: 'topk', topkFraction: 0 }, /strictly between 0 and 1/],
      [{ compression: 'topk', topkFraction: 1 }, /strictly between 0 and 1/],
      [{ compression: 'topk', topkFraction: -0.5 }, /strictly between 0 and 1/],
      [{ topkFraction: 0.1 }, /for compression topk/],
      [{ compression: 'float16', topkFraction: 0.1 }, /for compression topk/],
      [{ compression: 'float16', secureAggregation: true }, /over secure aggregation/],
      [{ compression: 'topk', dp: { noiseMultiplier: 1, clip: 1 } }, /with differential privacy/],
      [{ compression: 'float16', strategy: 'exact', l2: 0.1 }, /with an exact fit/],
    ];
    for (const [body, why] of refusals) {
      const res = await start(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error, JSON.stringify(body)).toMatchObject({ code: 'E_COMPRESSION_SETTINGS', message: expect.stringMatching(why) });
    }
    expect(await runCount()).toBe(0);
  });

  it('stores the setting (top-k at 1% by default), and none is a plain run with a plain run\'s config hash', async () => {
    expect((await start({ compression: 'topk' })).json().config.compression).toEqual({ codec: 'topk', fraction: 0.01 });
    expect((await start({ compression: 'float16', strategy: 'median' })).json().config.compression).toEqual({ codec: 'float16' });
    const none = (await start({ compression: 'none', seed: 7 })).json();
    const plain = (await start({ seed: 7 })).json();
    expect(none.config.compression).toBeUndefined();
    expect(none.configHash).toBe(plain.configHash);
  });
});
