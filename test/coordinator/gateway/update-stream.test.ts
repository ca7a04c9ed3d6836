// Integration: chunked updates from protocol-level peers against a real coordinator on a loopback
// port. A complete stream counts as its one frame would (same aggregate, same updateHash and
// signature on the ledger); each bad chunk, a stalled stream and a socket closed mid-stream are
// refused with their code, recorded as the site's outcome, leave the aggregate without any of
// their chunks, and leave no spool file behind.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { participantSigned, type LedgerEntry } from '../../../shared/ledger.js';
import { encodeFrame } from '../../../shared/tensor-codec.js';
import type { Weights } from '../../../shared/tensors.js';
import type { UpdateStream } from '../../../shared/update-chunks.js';
import { PROTOCOL_VERSION, type TaskHeader } from '../../../shared/wire.js';
import { registerTestSites, signedStatsReport, signedUpdateFrame, signedUpdateStream, TestPeer, type TestSite } from '../../helpers/test-peer.js';
import { countedTempFiles } from '../../helpers/counted-temp-files.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

// The coordinator runs in this process: its spool folders land where the tests count them.
const spoolLeftovers = countedTempFiles();
let coordinator: Coordinator;
let url: string;
let sites: Record<string, TestSite>;
let headers: { authorization: string };
let peers: TestPeer[] = [];

beforeEach(async () => {
  coordinator = await buildCoordinator({ db: join(mkdtempSync(join(tmpdir(), 'fedrx-sdb-')), 'c.sqlite'), log: () => {}, streamIdleMs: 400 });
  sites = registerTestSites(coordinator.store, ['site-a', 'site-b']);
  headers = { authorization: `Bearer ${coordinator.tokens.create('data-scientist').token}` };
  url = await coordinator.listen(0);
});

afterEach(async () => {
  for (const p of peers) p.close();
  peers = [];
  await coordinator.close();
});

const shifted = (w: Weights, by: number): Weights => w.map((t) => ({ ...t, data: t.data.map((x) => x + by) }));

interface Round {
  a: TestPeer;
  b: TestPeer;
  task: TaskHeader;
  global: Weights;
  runId: string;
}

/** Sites a and b connected, a one-round FedAvg run of TINY_STUDY (3 weights) started, both handed the training task. */
async function openRound(): Promise<Round> {
  const [a, b] = [await TestPeer.admit(url, sites['site-a']!), await TestPeer.admit(url, sites['site-b']!)];
  peers.push(a, b);
  for (const [p, id, s] of [[a, 'site-a', 1], [b, 'site-b', 2]] as const) {
    void p.until((r) => r.json.find((m) => m.type === 'stats-request')).then((req) => {
      const stats = { rows: 2, numeric: { x1: { count: 2, sum: 2 * s + 1, sumSq: s * s + (s + 1) ** 2 } }, levels: { g: [1, 1] }, target: { count: 2, sum: 20 * s, sumSq: 200 * s * s } };
      p.send(signedStatsReport(sites[id]!, req.runId as string, stats));
    });
    void p.task('evaluate', 1).then((t) => {
      const sums = { n: 2, absErr: 1, within20: 1, sqErr: 1, sumY: 10, sumY2: 30 };
      p.send(JSON.stringify({ type: 'eval-result', v: 1, runId: t.header.runId, round: 1, modelHash: t.header.modelHash, numExamples: 2, loss: 1, sums }));
    });
  }
  const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 1, minSites: 1, roundTimeoutSec: 20 } });
  expect(res.statusCode).toBe(201);
  const t = await a.task('train', 1);
  await b.task('train', 1);
  return { a, b, task: t.header, global: t.weights, runId: res.json().id as string };
}

/** site-a's update as a stream of 1-value chunks (3 chunks), n = 10. */
function streamOf(r: Round, weights: Weights, over: { updateHash?: string } = {}): UpdateStream {
  const fields = { runId: r.runId, round: 1, baseModelHash: r.task.modelHash, updateHash: over.updateHash ?? hashWeights(weights), numExamples: 10 };
  return signedUpdateStream(sites['site-a']!, fields, weights, 1);
}

/** A chunk frame as a site could forge it: any stream id, run, round, index and values. */
function chunkFrame(f: { streamId: string; runId: string; round: number; index: number }, values: number[]): Buffer {
  return encodeFrame({ v: PROTOCOL_VERSION, kind: 'update-chunk', ...f }, [{ name: 'chunk', shape: [values.length], data: new Float32Array(values) }]);
}

const streamIdOf = (s: UpdateStream): string => JSON.parse(s.header.subarray(8, 8 + s.header.readUInt32LE(4)).toString('utf8')).streamId as string;

function sendAll(p: TestPeer, s: UpdateStream, chunks: number[] = [0, 1, 2]): void {
  p.send(s.header);
  for (const i of chunks) p.send(s.chunk(i));
}

/** site-b's one-frame update, +5, n = 30. */
function sendB(r: Round): void {
  const w = shifted(r.global, 5);
  r.b.send(signedUpdateFrame(sites['site-b']!, { runId: r.runId, round: 1, baseModelHash: r.task.modelHash, updateHash: hashWeights(w), numExamples: 30 }, w));
}

async function finished(r: Round): Promise<{ outcomes: Record<string, { status: string; code?: string; reason?: string; updateHash?: string }>; modelHash: string; entry: LedgerEntry }> {
  for (;;) {
    const run = (await coordinator.app.inject({ headers, url: `/v1/runs/${r.runId}` })).json();
    if (run.status !== 'running' && run.status !== 'queued') {
      expect(run.status, run.error ?? '').toBe('completed');
      const round = run.rounds.find((x: { round: number }) => x.round === 1);
      const ledger = (await coordinator.app.inject({ headers, url: '/v1/ledger' })).json();
      return { outcomes: Object.fromEntries(round.sites.map((s: { siteId: string }) => [s.siteId, s])), modelHash: round.modelHash, entry: ledger.entries.at(-1) };
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Only b's update in the aggregate: FedAvg of one update is that update. */
async function onlyB(r: Round, code: string): Promise<void> {
  const done = await finished(r);
  expect(done.outcomes['site-a']).toMatchObject({ status: 'rejected', code });
  expect(done.outcomes['site-b']).toMatchObject({ status: 'accepted' });
  expect(done.modelHash).toBe(hashWeights(shifted(r.global, 5)));
  expect(done.entry.participants.map((p) => p.siteId)).toEqual(['site-b']);
  expect(spoolLeftovers()).toEqual([]);
}

describe('chunked updates', () => {
  it('a complete stream is aggregated as its one frame would be, with the same updateHash and signature on the ledger', async () => {
    const r = await openRound();
    sendB(r);
    const update = shifted(r.global, 1);
    sendAll(r.a, streamOf(r, update));
    const done = await finished(r);
    expect(done.outcomes['site-a']).toMatchObject({ status: 'accepted', updateHash: hashWeights(update) });
    // FedAvg of a (n=10, +1) and b (n=30, +5): global + 4.
    expect(done.modelHash).toBe(hashWeights(shifted(r.global, 4)));
    const a = done.entry.participants.find((p) => p.siteId === 'site-a')!;
    expect(a.updateHash).toBe(hashWeights(update));
    expect(participantSigned(done.entry, a, sites['site-a']!.keys.publicKey)).toBe(true);
    expect(spoolLeftovers()).toEqual([]);
  });

  it('E_CHUNK_UNKNOWN: a chunk before any header is refused, and the stream that follows still counts', async () => {
    const r = await openRound();
    const s = streamOf(r, shifted(r.global, 1));
    r.a.send(s.chunk(0));
    expect((await r.a.errorWith('E_CHUNK_UNKNOWN')).message).toMatch(/no stream is open/);
    sendAll(r.a, s);
    sendB(r);
    expect((await finished(r)).outcomes['site-a']).toMatchObject({ status: 'accepted' });
  });

  it('E_CHUNK_UNKNOWN: a chunk of another update, or naming another run or round, is refused without touching the open stream', async () => {
    const r = await openRound();
    const s = streamOf(r, shifted(r.global, 1));
    const other = streamOf(r, shifted(r.global, 2));
    r.a.send(s.header);
    r.a.send(other.chunk(0));
    expect((await r.a.errorWith('E_CHUNK_UNKNOWN')).message).toMatch(/the open stream is/);
    const id = streamIdOf(s);
    r.a.send(chunkFrame({ streamId: id, runId: 'run-00000000', round: 1, index: 0 }, [0]));
    expect((await r.a.errorWith('E_CHUNK_UNKNOWN')).message).toMatch(/names run run-00000000/);
    r.a.send(chunkFrame({ streamId: id, runId: r.runId, round: 2, index: 0 }, [0]));
    expect((await r.a.errorWith('E_CHUNK_UNKNOWN')).message).toMatch(/round 2/);
    for (const i of [0, 1, 2]) r.a.send(s.chunk(i));
    sendB(r);
    const done = await finished(r);
    expect(done.outcomes['site-a']).toMatchObject({ status: 'accepted' });
    expect(done.modelHash).toBe(hashWeights(shifted(r.global, 4)));
  });

  it('E_CHUNK_COUNT: a chunk beyond those the header declared is refused; the complete update still counts once', async () => {
    const r = await openRound();
    const s = streamOf(r, shifted(r.global, 1));
    sendAll(r.a, s);
    r.a.send(s.chunk(2));
    expect((await r.a.errorWith('E_CHUNK_COUNT')).message).toMatch(/ended after its 3 chunks/);
    sendB(r);
    const done = await finished(r);
    expect(done.outcomes['site-a']).toMatchObject({ status: 'accepted' });
    expect(done.modelHash).toBe(hashWeights(shifted(r.global, 4)));
  });

  it('E_CHUNK_ORDER: a chunk out of order ends the stream; the chunk folded before it is taken back out', async () => {
    const r = await openRound();
    sendB(r);
    sendAll(r.a, streamOf(r, shifted(r.global, 1)), [0, 2]);
    expect((await r.a.errorWith('E_CHUNK_ORDER')).message).toMatch(/chunk 2 .* before chunk 1/);
    await onlyB(r, 'E_CHUNK_ORDER');
  });

  it('E_CHUNK_ORDER: a duplicate chunk ends the stream', async () => {
    const r = await openRound();
    sendB(r);
    sendAll(r.a, streamOf(r, shifted(r.global, 1)), [0, 1, 1]);
    expect((await r.a.errorWith('E_CHUNK_ORDER')).message).toMatch(/chunk 1 .* arrived twice/);
    await onlyB(r, 'E_CHUNK_ORDER');
  });

  it('E_CHUNK_HASH: a chunk whose bytes do not match its declared hash ends the stream', async () => {
    const r = await openRound();
    sendB(r);
    const s = streamOf(r, shifted(r.global, 1));
    sendAll(r.a, s, [0]);
    r.a.send(chunkFrame({ streamId: streamIdOf(s), runId: r.runId, round: 1, index: 1 }, [123]));
    expect((await r.a.errorWith('E_CHUNK_HASH')).message).toMatch(/chunk 1/);
    await onlyB(r, 'E_CHUNK_HASH');
  });

  it('E_HASH_MISMATCH: chunks that match their hashes but not the signed updateHash are refused at the end', async () => {
    const r = await openRound();
    sendB(r);
    sendAll(r.a, streamOf(r, shifted(r.global, 1), { updateHash: hashWeights(shifted(r.global, 2)) }));
    await r.a.errorWith('E_HASH_MISMATCH');
    await onlyB(r, 'E_HASH_MISMATCH');
  });

  it('E_STREAM_DEADLINE: a stream that stops arriving is refused on its deadline and leaves nothing behind', async () => {
    const r = await openRound();
    sendB(r);
    sendAll(r.a, streamOf(r, shifted(r.global, 1)), [0]);
    expect((await r.a.errorWith('E_STREAM_DEADLINE')).message).toMatch(/after 1 of 3/);
    await onlyB(r, 'E_STREAM_DEADLINE');
  });

  it('E_STREAM_TRUNCATED: a socket closed mid-stream is refused at once and leaves nothing behind', async () => {
    const r = await openRound();
    sendB(r);
    sendAll(r.a, streamOf(r, shifted(r.global, 1)), [0, 1]);
    await new Promise((res) => setTimeout(res, 100));
    r.a.close();
    const done = await finished(r);
    expect(done.outcomes['site-a']).toMatchObject({ status: 'rejected', code: 'E_STREAM_TRUNCATED', reason: expect.stringMatching(/after 2 of 3 chunks/) });
    expect(done.modelHash).toBe(hashWeights(shifted(r.global, 5)));
    expect(spoolLeftovers()).toEqual([]);
  });
});
