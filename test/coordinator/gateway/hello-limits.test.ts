// What an unauthenticated client can make the coordinator do at the handshake: a forged hello is
// checked against the claimed site's key only, failed hellos are rate-limited per address, and
// only so many upgrades may wait for their hello at once. Attackers connect from other loopback
// addresses than the registered sites.

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { generateKeyPair } from '../../../shared/signing.js';
import { RawWs } from '../../helpers/raw-ws.js';
import { tempDir } from '../../helpers/temp.js';
import { registerTestSites, TestPeer, type TestSite } from '../../helpers/test-peer.js';

async function start(limits: Parameters<typeof buildCoordinator>[0]['limits']): Promise<{ c: Coordinator; url: string }> {
  const c = await buildCoordinator({ db: join(tempDir('hello-limits'), 'c.sqlite'), log: () => {}, limits });
  return { c, url: await c.listen(0) };
}

/** Milliseconds from sending a hello to its answer, and the answer. */
async function timedHello(url: string, siteId: string, signer: TestSite['keys'], localAddress: string): Promise<{ ms: number; answer: Record<string, unknown> }> {
  const ws = await RawWs.open(url, { localAddress });
  await ws.next((m) => m.type === 'challenge');
  const t0 = performance.now();
  const answer = await ws.hello(siteId, signer);
  const ms = performance.now() - t0;
  ws.destroy();
  return { ms, answer };
}

describe('a forged hello', () => {
  let c: Coordinator;
  let url: string;
  let sites: Record<string, TestSite>;
  beforeAll(async () => {
    ({ c, url } = await start({ failedHellosPerMinute: 10_000 }));
    sites = registerTestSites(c.store, Array.from({ length: 300 }, (_, i) => `site-${i}`));
  });
  afterAll(async () => {
    await c.close();
  });

  it('is checked against the claimed site key alone: with 300 sites it costs about what an unknown site does', async () => {
    const n = 20;
    let unknown = 0;
    let forged = 0;
    for (let i = 0; i < n; i++) {
      const u = await timedHello(url, 'site-nobody', generateKeyPair(), '127.0.0.2');
      expect(u.answer).toMatchObject({ type: 'error', code: 'E_UNKNOWN_SITE' });
      unknown += u.ms;
      // Signed with another registered site's key: telling which would mean trying every key.
      const f = await timedHello(url, 'site-0', sites[`site-${i + 1}`]!.keys, '127.0.0.2');
      expect(f.answer).toMatchObject({ type: 'error', code: 'E_BAD_SIGNATURE' });
      forged += f.ms;
    }
    // One signature check against 300: a generous bound either way.
    expect(forged / unknown).toBeLessThan(5);
  });
});

describe('failed hellos and waiting upgrades', () => {
  let c: Coordinator;
  let url: string;
  let sites: Record<string, TestSite>;
  beforeAll(async () => {
    ({ c, url } = await start({ failedHellosPerMinute: 5, maxPendingHellos: 8, helloTimeoutMs: 1500 }));
    sites = registerTestSites(c.store, ['site-a', 'site-b']);
  });
  afterAll(async () => {
    await c.close();
  });

  it('after 5 failed hellos an address gets 429 E_RATE_LIMITED at the upgrade; other addresses still connect', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await timedHello(url, 'site-a', generateKeyPair(), '127.0.0.3')).answer).toMatchObject({ code: 'E_BAD_SIGNATURE' });
    }
    await expect(RawWs.open(url, { localAddress: '127.0.0.3' })).rejects.toThrow(/429 .*E_RATE_LIMITED: too many failed hellos/s);
    const ok = await RawWs.open(url, { localAddress: '127.0.0.1' });
    expect(await ok.hello('site-a', sites['site-a']!.keys)).toMatchObject({ type: 'welcome' });
    ok.destroy();
  });

  it('at most 8 upgrades wait for their hello: the next gets 503 E_BUSY; an admitted site keeps working, and slots free up at the hello timeout', async () => {
    const site = await TestPeer.admit(url, sites['site-b']!);
    const silent = await Promise.all(Array.from({ length: 8 }, () => RawWs.open(url, { localAddress: '127.0.0.4' })));
    await expect(RawWs.open(url, { localAddress: '127.0.0.5' })).rejects.toThrow(/503 .*E_BUSY/s);
    site.send('garbage');
    await site.errorWith('E_BAD_JSON');
    expect(site.closed).toBeNull();
    // The silent sockets are refused at the hello timeout, and the slots are free again.
    const notHello = await Promise.all(silent.map((ws) => ws.next((m) => m.type === 'error')));
    expect(notHello.every((m) => m.code === 'E_NOT_HELLO')).toBe(true);
    for (const ws of silent) ws.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const later = await RawWs.open(url, { localAddress: '127.0.0.5' });
    expect(await later.next((m) => m.type === 'challenge')).toBeTruthy();
    later.destroy();
    site.close();
  });
});
