// Integration: regional agents' updates carry their regional coordinator's signed head (childHead)
// to a real coordinator (loopback sockets, SQLite file), in one frame or a chunked stream's header.
// A sound head is committed in the entry's `children`, sorted by site; a head that does not verify
// or names an empty chain is refused (E_CHILD_HEAD), one of the wrong shape never passes the header
// schema (E_FRAME_HEADER); a hospital's update without one is a participant with no child.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { verifyChain, type LedgerEntry } from '../../../shared/ledger.js';
import { signHead, type SignedHead } from '../../../shared/ledger-head.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { generateKeyPair, sign, updateBody } from '../../../shared/signing.js';
import type { Weights } from '../../../shared/tensors.js';
import { updateStream } from '../../../shared/update-chunks.js';
import { PROTOCOL_VERSION, type TaskHeader } from '../../../shared/wire.js';
import { registerTestSites, signedUpdateFrame, type TestPeer, type TestSite } from '../../helpers/test-peer.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';
import { admitTinySite, answerEval, waitForRun } from '../../helpers/tiny-run.js';

let coordinator: Coordinator;
let url: string;
let sites: Record<string, TestSite>;
let ds: { authorization: string };
const SITES = ['region-e', 'region-a', 'region-bad', 'region-empty', 'region-stream', 'region-stream-bad', 'hospital'];

beforeEach(async () => {
  coordinator = await buildCoordinator({ db: join(mkdtempSync(join(tmpdir(), 'fedrx-child-')), 'c.sqlite'), log: () => {} });
  sites = registerTestSites(coordinator.store, SITES);
  ds = { authorization: `Bearer ${coordinator.tokens.create('data-scientist').token}` };
  url = await coordinator.listen(0);
});

afterEach(async () => {
  await coordinator.close();
});

const plus = (w: Weights, step: number): Weights => w.map((t) => ({ ...t, data: t.data.map((x) => x + step) }));

function fields(h: TaskHeader, w: Weights) {
  return { runId: h.runId, round: h.round, baseModelHash: h.modelHash, updateHash: hashWeights(w), numExamples: 10 };
}

/** A regional update as a stream of 2-value chunks with `childHead` in its header. */
function sendStream(peer: TestPeer, site: TestSite, h: TaskHeader, w: Weights, childHead: SignedHead): void {
  const meta = { v: PROTOCOL_VERSION as 1, kind: 'update' as const, siteId: site.siteId, trainLoss: 0.5, ...fields(h, w) };
  const s = updateStream({ ...meta, signature: sign('update', updateBody(meta), site.keys.secretKey), childHead }, w, site.keys, 2);
  peer.send(s.header);
  for (let i = 0; i < s.chunkCount; i++) peer.send(s.chunk(i));
}

describe('child heads in a training round', () => {
  it('commits sound heads in children (by siteId), refuses unsigned or empty ones with E_CHILD_HEAD and malformed ones by schema', async () => {
    const p = Object.fromEntries(await Promise.all(SITES.map(async (id) => [id, await admitTinySite(url, sites[id]!)] as const))) as Record<string, TestPeer>;
    const res = await coordinator.app.inject({ headers: ds, method: 'POST', url: '/v1/runs', payload: { study: TINY_STUDY, rounds: 1, minSites: 2, roundTimeoutSec: 10 } });
    expect(res.statusCode).toBe(201);
    const runId = res.json().id as string;
    const t = await p['region-a']!.task('train', 1);
    const w = plus(t.weights, 1);
    const regionKey = generateKeyPair();
    const head = (length: number, tag: string): SignedHead => signHead({ length, headHash: hashWeights(plus(t.weights, length)).replace(/^../, tag) }, regionKey);
    const heads = { a: head(3, 'aa'), e: head(7, 'ee'), stream: head(2, '22') };
    const send = (id: string, over: Record<string, unknown>): void => p[id]!.send(signedUpdateFrame(sites[id]!, fields(t.header, w), w, over));

    // Sent by region-e first: children are sorted by siteId, not by arrival.
    send('region-e', { childHead: heads.e });
    send('region-a', { childHead: heads.a });
    // Another key's signature over the same head; then a correctly signed head of an empty chain.
    send('region-bad', { childHead: { ...heads.a, coordinatorKey: generateKeyPair().publicKey } });
    send('region-empty', { childHead: signHead({ length: 0, headHash: '0'.repeat(64) }, regionKey) });
    // Wrong shapes are not an update at all (the site may still send one): an unknown field, a short hash.
    send('hospital', { childHead: { ...heads.a, extra: 1 } });
    expect((await p['hospital']!.errorWith('E_FRAME_HEADER')).message).toMatch(/update header is invalid at \/childHead/);
    send('hospital', { childHead: { ...heads.a, headHash: 'ab' } });
    await p['hospital']!.errorWith('E_FRAME_HEADER');
    send('hospital', {});
    sendStream(p['region-stream']!, sites['region-stream']!, t.header, w, heads.stream);
    sendStream(p['region-stream-bad']!, sites['region-stream-bad']!, t.header, w, { ...heads.stream, length: 3 });

    expect((await p['region-bad']!.errorWith('E_CHILD_HEAD')).message).toMatch(/signature does not verify/);
    expect((await p['region-empty']!.errorWith('E_CHILD_HEAD')).message).toMatch(/empty chain/);
    expect((await p['region-stream-bad']!.errorWith('E_CHILD_HEAD')).message).toMatch(/signature does not verify/);
    for (const peer of Object.values(p)) answerEval(peer, 1);

    const run = await waitForRun(coordinator, ds, runId);
    expect(run.status).toBe('completed');
    expect(run.rounds.find((r) => r.round === 1)!.sites.map((s) => [s.siteId, s.status, s.code ?? null])).toEqual([
      ['hospital', 'accepted', null],
      ['region-a', 'accepted', null],
      ['region-bad', 'rejected', 'E_CHILD_HEAD'],
      ['region-e', 'accepted', null],
      ['region-empty', 'rejected', 'E_CHILD_HEAD'],
      ['region-stream', 'accepted', null],
      ['region-stream-bad', 'rejected', 'E_CHILD_HEAD'],
    ]);
    const chain = (await coordinator.app.inject({ headers: ds, url: '/v1/ledger' })).json<{ entries: LedgerEntry[] }>().entries;
    expect(verifyChain(chain).ok).toBe(true);
    const entry = chain.find((e) => e.runId === runId && e.round === 1)!;
    expect(entry.participants.map((x) => x.siteId)).toEqual(['hospital', 'region-a', 'region-e', 'region-stream']);
    expect(entry.children).toEqual([
      { siteId: 'region-a', head: heads.a },
      { siteId: 'region-e', head: heads.e },
      { siteId: 'region-stream', head: heads.stream },
    ]);
    // Round 0 had no updates, so no children section at all.
    expect('children' in chain.find((e) => e.runId === runId && e.round === 0)!).toBe(false);
    for (const peer of Object.values(p)) peer.close();
  });
});
