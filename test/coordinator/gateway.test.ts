// Integration: attacker-controlled frames against a real coordinator on a loopback port. Each
// bad input gets its coded error, and the coordinator keeps serving everyone else.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../coordinator/app.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';
import { TestPeer } from '../helpers/test-peer.js';

let coordinator: Coordinator;
let url: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrx-gateway-'));
  coordinator = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {}, maxFrameBytes: 1024 * 1024 });
  coordinator.store.addSite('site-a', 'tok-a');
  coordinator.store.addSite('site-b', 'tok-b');
  url = await coordinator.listen(0);
});

afterAll(async () => {
  await coordinator.close();
});

async function admitted(site: string, token: string): Promise<TestPeer> {
  const p = await TestPeer.connect(url, TestPeer.hello(site, token));
  await p.until((r) => r.json.find((m) => m.type === 'welcome'));
  return p;
}

async function refusedWith(hello: Record<string, unknown> | string, code: string): Promise<void> {
  const p = await TestPeer.connect(url, hello);
  expect((await p.errorWith(code)).code).toBe(code);
  await p.until(() => p.closed !== null);
  expect(p.closed!.code).toBe(4001);
}

const update = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  v: PROTOCOL_VERSION,
  kind: 'update',
  runId: 'run-12345678',
  round: 1,
  siteId: 'site-a',
  baseModelHash: 'a'.repeat(64),
  updateHash: 'b'.repeat(64),
  numExamples: 5,
  trainLoss: 1,
  ...over,
});
const tensor = [{ name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([1, 2]) }];

describe('agent gateway', () => {
  it('refuses unknown sites, wrong tokens, bad first frames and other protocol versions', async () => {
    await refusedWith(TestPeer.hello('site-zz', 'tok'), 'E_UNKNOWN_SITE');
    await refusedWith(TestPeer.hello('site-a', 'wrong'), 'E_BAD_TOKEN');
    await refusedWith('this is not json', 'E_BAD_JSON');
    await refusedWith({ ...TestPeer.hello('site-a', 'tok-a'), v: 99 }, 'E_PROTOCOL_VERSION');
    await refusedWith({ type: 'eval-result', v: 1 }, 'E_BAD_MESSAGE');
  });

  it('drops malformed frames with a coded error and keeps the socket and the others working', async () => {
    const a = await admitted('site-a', 'tok-a');
    const b = await admitted('site-b', 'tok-b');
    a.send('{{{ garbage');
    await a.errorWith('E_BAD_JSON');
    a.send(JSON.stringify({ type: 'eval-result', v: 1, runId: 'run-1' }));
    await a.errorWith('E_BAD_MESSAGE');

    const good = encodeFrame(update(), tensor);
    a.send(good.subarray(0, good.length - 3));
    expect((await a.errorWith('E_FRAME_TRUNCATED')).message).toMatch(/bytes/);
    a.send(Buffer.concat([good, Buffer.alloc(8)]));
    await a.errorWith('E_FRAME_OVERSIZED');
    a.send(Buffer.from('not a frame at all'));
    await a.errorWith('E_FRAME_HEADER');
    a.send(encodeFrame(update({ updateHash: undefined }), tensor));
    expect((await a.errorWith('E_FRAME_HEADER')).message).toMatch(/updateHash/);
    a.send(encodeFrame(update({ siteId: 'site-b' }), tensor));
    expect((await a.errorWith('E_BAD_MESSAGE')).message).toMatch(/claims site site-b/);
    // A well-formed update while no round is open: refused, nothing recorded.
    a.send(good);
    await a.errorWith('E_WRONG_RUN');
    expect(a.closed).toBeNull();

    // A frame past the configured maximum is cut off by the socket layer (close 1009) …
    a.send(Buffer.alloc(2 * 1024 * 1024));
    await a.until(() => a.closed !== null);
    expect(a.closed!.code).toBe(1009);
    // … and the coordinator and the other site are unaffected.
    b.send('garbage');
    await b.errorWith('E_BAD_JSON');
    expect(b.closed).toBeNull();
    const health = await fetch(`${url}/healthz`).then((r) => r.json() as Promise<{ ok: boolean; sitesConnected: number }>);
    expect(health).toMatchObject({ ok: true, sitesConnected: 1 });
    b.close();
  });

  it('a reconnecting site replaces its old socket', async () => {
    const first = await admitted('site-b', 'tok-b');
    const second = await admitted('site-b', 'tok-b');
    await first.until(() => first.closed !== null);
    expect(first.closed!.code).toBe(4002);
    expect(coordinator.gateway!.connectedSites().map((s) => s.siteId)).toContain('site-b');
    second.close();
  });
});
