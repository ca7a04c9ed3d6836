// Integration: attacker-controlled frames against a real coordinator on a loopback port. Each
// bad input, forged identity or replay gets its coded error, and the coordinator keeps serving
// everyone else.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { generateKeyPair } from '../../../shared/signing.js';
import { decodeFrame, decodeFrame64, encodeFrame, encodeFrame64 } from '../../../shared/tensor-codec.js';
import { hashStatistics64 } from '../../../shared/model-hash.js';
import { sign, updateBody } from '../../../shared/signing.js';
import { PROTOCOL_VERSION } from '../../../shared/wire.js';
import { registerTestSites, signedUpdateFrame, TestPeer, type TestSite } from '../../helpers/test-peer.js';

let coordinator: Coordinator;
let url: string;
let sites: Record<string, TestSite>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrx-gateway-'));
  // These tests refuse many hellos from one address on purpose; hello-limits.test.ts tests the limit.
  coordinator = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {}, maxFrameBytes: 1024 * 1024, limits: { failedHellosPerMinute: 1000 } });
  sites = registerTestSites(coordinator.store, ['site-a', 'site-b', 'site-r']);
  url = await coordinator.listen(0);
});

afterAll(async () => {
  await coordinator.close();
});

async function refused(peer: TestPeer, code: string): Promise<Record<string, unknown>> {
  const err = await peer.errorWith(code);
  await peer.until(() => peer.closed !== null);
  expect(peer.closed!.code).toBe(4001);
  expect(peer.received.json.some((m) => m.type === 'welcome')).toBe(false);
  return err;
}

async function refusedHello(hello: (p: TestPeer) => Record<string, unknown> | string, code: string): Promise<Record<string, unknown>> {
  const p = await TestPeer.connect(url);
  const h = hello(p);
  p.send(typeof h === 'string' ? h : JSON.stringify(h));
  return refused(p, code);
}

const fields = { runId: 'run-12345678', round: 1, baseModelHash: 'a'.repeat(64), updateHash: 'b'.repeat(64), numExamples: 5 };
const tensor = [{ name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([1, 2]) }];

describe('agent handshake', () => {
  it('opens every connection with a fresh challenge naming the coordinator key', async () => {
    const [p, q] = [await TestPeer.connect(url), await TestPeer.connect(url)];
    expect(p.challenge.nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(p.challenge.nonce).not.toBe(q.challenge.nonce);
    expect(p.challenge.coordinatorKey).toBe(coordinator.store.ledger.signerKey());
    p.close();
    q.close();
  });

  it('refuses unknown, revoked, wrongly signing and impersonating sites, bad first frames and other versions', async () => {
    const stranger = { siteId: 'site-zz', keys: generateKeyPair() };
    await refusedHello((p) => p.hello(stranger), 'E_UNKNOWN_SITE');
    // A key nobody registered signs for site-a.
    await refusedHello((p) => p.hello(sites['site-a']!, { signer: generateKeyPair() }), 'E_BAD_SIGNATURE');
    // A registered site (b) claims site-a's id, signing with its own key: checked against site-a's key only.
    const e = await refusedHello((p) => p.hello(sites['site-a']!, { signer: sites['site-b']!.keys }), 'E_BAD_SIGNATURE');
    expect(e.message).toMatch(/site site-a's key/);
    await refusedHello(() => 'this is not json', 'E_BAD_JSON');
    await refusedHello((p) => ({ ...p.hello(sites['site-a']!), v: 99 }), 'E_PROTOCOL_VERSION');
    await refusedHello(() => ({ type: 'eval-result', v: 1 }), 'E_BAD_MESSAGE');
    await refusedHello((p) => ({ ...p.hello(sites['site-a']!), token: 'old-style' }), 'E_BAD_MESSAGE');

    coordinator.store.sites.revoke('site-r');
    await refusedHello((p) => p.hello(sites['site-r']!), 'E_SITE_REVOKED');
    // Nothing of a refused site reached the ledger or the list of connected sites.
    expect(coordinator.gateway!.connectedSites()).toEqual([]);
    expect(coordinator.store.ledger.head().length).toBe(0);
  });

  it('refuses a replayed handshake and a nonce issued to another connection', async () => {
    const first = await TestPeer.connect(url);
    const hello = first.hello(sites['site-a']!);
    first.send(JSON.stringify(hello));
    await first.until((r) => r.json.find((m) => m.type === 'welcome'));
    // The same signed hello, captured and replayed on a new connection.
    const err = await refusedHello(() => hello, 'E_NONCE_REPLAYED');
    expect(err.message).toMatch(/replayed/);
    // A hello signing another live connection's nonce.
    const other = await TestPeer.connect(url);
    await refusedHello((p) => p.hello(sites['site-b']!, { nonce: other.challenge.nonce }), 'E_BAD_NONCE');
    // A nonce the coordinator never issued.
    await refusedHello((p) => p.hello(sites['site-b']!, { nonce: 'c'.repeat(64) }), 'E_BAD_NONCE');
    // The first connection is unaffected.
    expect(coordinator.gateway!.isConnected('site-a')).toBe(true);
    expect(coordinator.store.ledger.head().length).toBe(0);
    first.close();
    other.close();
  });

  it('refuses a hello that answers after its nonce expired', async () => {
    const c2 = await buildCoordinator({ db: join(mkdtempSync(join(tmpdir(), 'fedrx-gw2-')), 'c.sqlite'), log: () => {}, nonceTtlMs: 1000 });
    const s = registerTestSites(c2.store, ['site-a']);
    const url2 = await c2.listen(0);
    try {
      const p = await TestPeer.connect(url2);
      expect(p.challenge.expiresInSec).toBe(1);
      await new Promise((r) => setTimeout(r, 1300));
      p.send(JSON.stringify(p.hello(s['site-a']!)));
      await refused(p, 'E_NONCE_EXPIRED');
    } finally {
      await c2.close();
    }
  });
});

describe('frames from admitted sites', () => {
  it('drops malformed, unsigned and impersonating frames with a coded error and keeps the socket and the others working', async () => {
    const a = await TestPeer.admit(url, sites['site-a']!);
    const b = await TestPeer.admit(url, sites['site-b']!);
    a.send('{{{ garbage');
    await a.errorWith('E_BAD_JSON');
    a.send(JSON.stringify({ type: 'eval-result', v: 1, runId: 'run-1' }));
    await a.errorWith('E_BAD_MESSAGE');

    const good = signedUpdateFrame(sites['site-a']!, fields, tensor);
    a.send(good.subarray(0, good.length - 3));
    expect((await a.errorWith('E_FRAME_TRUNCATED')).message).toMatch(/bytes/);
    a.send(Buffer.concat([good, Buffer.alloc(8)]));
    await a.errorWith('E_FRAME_OVERSIZED');
    a.send(Buffer.from('not a frame at all'));
    await a.errorWith('E_FRAME_HEADER');
    a.send(signedUpdateFrame(sites['site-a']!, fields, tensor, { updateHash: undefined }));
    expect((await a.errorWith('E_FRAME_HEADER')).message).toMatch(/updateHash/);
    a.send(encodeFrame({ v: PROTOCOL_VERSION, kind: 'update', siteId: 'site-a', trainLoss: 1, ...fields }, tensor));
    expect((await a.errorWith('E_FRAME_HEADER')).message).toMatch(/signature/);
    // Speaking for site-b on site-a's socket, and signing with site-b's key.
    a.send(signedUpdateFrame(sites['site-b']!, fields, tensor));
    expect((await a.errorWith('E_IDENTITY_MISMATCH')).message).toMatch(/claims site site-b/);
    a.send(signedUpdateFrame(sites['site-a']!, fields, tensor, {}, sites['site-b']!.keys));
    expect((await a.errorWith('E_IDENTITY_MISMATCH')).message).toMatch(/another registered site/);
    // A signature over other values than the header carries (here: a forged example count).
    const signedForFive = decodeFrame(signedUpdateFrame(sites['site-a']!, fields, tensor)).header.signature;
    a.send(signedUpdateFrame(sites['site-a']!, { ...fields, numExamples: 500 }, tensor, { signature: signedForFive }));
    await a.errorWith('E_BAD_SIGNATURE');
    // A well-formed signed update while no round is open: refused, nothing recorded.
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
    expect(coordinator.store.ledger.head().length).toBe(0);
    b.close();
  });

  it('checks exact-fit frames like updates: float64 layout, header schema, identity and signature; none open is refused', async () => {
    const a = await TestPeer.admit(url, sites['site-a']!);
    const stats = [{ name: 'fold0', shape: [1, 3], data: Float64Array.of(1, 1, 2) }];
    const exact = { runId: 'run-12345678', round: 1, siteId: 'site-a', baseModelHash: 'a'.repeat(64), updateHash: hashStatistics64(stats), numExamples: 1 };
    const frame = (over: Record<string, unknown> = {}, signer = sites['site-a']!.keys): Buffer => {
      const h = { v: PROTOCOL_VERSION, kind: 'exact-stats', dtype: 'float64', ...exact, foldRows: [1], ...over } as typeof exact & Record<string, unknown>;
      return encodeFrame64({ ...h, signature: sign('update', updateBody(h), signer.secretKey) }, stats);
    };
    const good = frame();
    a.send(good.subarray(0, good.length - 8));
    await a.errorWith('E_FRAME_TRUNCATED');
    a.send(frame({ foldRows: 'many' }));
    expect((await a.errorWith('E_FRAME_HEADER')).message).toMatch(/foldRows/);
    a.send(frame({ siteId: 'site-b' }, sites['site-b']!.keys));
    await a.errorWith('E_IDENTITY_MISMATCH');
    const signedForOne = decodeFrame64(good).header.signature;
    a.send(encodeFrame64({ ...decodeFrame64(frame({ numExamples: 9 })).header, signature: signedForOne }, stats));
    await a.errorWith('E_BAD_SIGNATURE');
    // Well-formed and signed, but no exact fit is open.
    a.send(good);
    await a.errorWith('E_WRONG_RUN');
    expect(a.closed).toBeNull();
    a.close();
  });

  it('a reconnecting site replaces its old socket', async () => {
    const first = await TestPeer.admit(url, sites['site-b']!);
    const second = await TestPeer.admit(url, sites['site-b']!);
    await first.until(() => first.closed !== null);
    expect(first.closed!.code).toBe(4002);
    expect(coordinator.gateway!.connectedSites().map((s) => s.siteId)).toContain('site-b');
    second.close();
  });

  it('closes the connection of a site revoked while connected, at its next message', async () => {
    const s = registerTestSites(coordinator.store, ['site-late'])['site-late']!;
    const p = await TestPeer.admit(url, s);
    coordinator.store.sites.revoke('site-late'); // as `fedrx site revoke` does on the database
    p.send(signedUpdateFrame(s, fields, tensor));
    await p.errorWith('E_SITE_REVOKED');
    await p.until(() => p.closed !== null);
    expect(p.closed!.code).toBe(4001);
    expect(p.received.json.some((m) => m.type === 'error' && m.code === 'E_WRONG_RUN')).toBe(false);
  });

  it('closes the connection of a site re-keyed while connected: the old key signs nothing more', async () => {
    const s = registerTestSites(coordinator.store, ['site-rekey'])['site-rekey']!;
    const p = await TestPeer.admit(url, s);
    const before = coordinator.store.ledger.head().length;
    expect(coordinator.store.sites.register('site-rekey', generateKeyPair().publicKey).change).toBe('rekeyed'); // as `fedrx site register` does
    p.send(signedUpdateFrame(s, fields, tensor));
    await p.errorWith('E_SITE_REKEYED');
    await p.until(() => p.closed !== null);
    expect(p.closed!.code).toBe(4001);
    expect(coordinator.store.ledger.head().length).toBe(before);
  });
});

describe('admin site routes', () => {
  it('enrol a site by its public key, and revoke it: its live connection closes and it is refused from then on', async () => {
    const admin = { authorization: `Bearer ${coordinator.tokens.create('admin').token}` };
    const keys = generateKeyPair();
    const enrol = await coordinator.app.inject({ method: 'POST', url: '/v1/sites', headers: admin, payload: { siteId: 'site-rest', publicKey: `fedrx-ed25519-public-key:${keys.publicKey}\n` } });
    expect(enrol.statusCode).toBe(201);
    expect(enrol.json()).toMatchObject({ change: 'registered', site: { id: 'site-rest', publicKey: keys.publicKey, revoked: false } });
    const bad = await coordinator.app.inject({ method: 'POST', url: '/v1/sites', headers: admin, payload: { siteId: 'site-x', publicKey: 'z'.repeat(64) } });
    expect(bad.json()).toMatchObject({ error: { code: 'E_BAD_REQUEST' } });
    // Another site's key cannot be enrolled under a second id.
    const stolen = await coordinator.app.inject({ method: 'POST', url: '/v1/sites', headers: admin, payload: { siteId: 'site-x', publicKey: keys.publicKey } });
    expect(stolen.json().error.message).toMatch(/already belongs to site site-rest/);

    const site = { siteId: 'site-rest', keys };
    const p = await TestPeer.admit(url, site);
    const revoke = await coordinator.app.inject({ method: 'DELETE', url: '/v1/sites/site-rest', headers: admin });
    expect(revoke.json()).toMatchObject({ site: { id: 'site-rest', revoked: true } });
    await p.errorWith('E_SITE_REVOKED');
    await p.until(() => p.closed !== null);
    expect(p.closed!.code).toBe(4001);
    await refusedHello((q) => q.hello(site), 'E_SITE_REVOKED');
    expect((await coordinator.app.inject({ method: 'DELETE', url: '/v1/sites/site-nobody', headers: admin })).statusCode).toBe(404);
  });
});
