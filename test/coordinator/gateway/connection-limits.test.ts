// HTTP connections that stall are closed (headers, body, keep-alive idle), and one address holds
// at most so many connections that are not an admitted site's; the sites and the API keep working
// meanwhile. The attacker connects from 127.0.0.2, the sites and the API's users from 127.0.0.1.

import net from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { DEFAULT_NET_LIMITS, netLimits } from '../../../coordinator/gateway/connection-limits.js';
import { tempDir } from '../../helpers/temp.js';
import { registerTestSites, TestPeer, type TestSite } from '../../helpers/test-peer.js';

const CAP = 20;
let c: Coordinator;
let url: string;
let port: number;
let sites: Record<string, TestSite>;
let token: string;

beforeAll(async () => {
  c = await buildCoordinator({
    db: join(tempDir('connection-limits'), 'c.sqlite'),
    log: () => {},
    limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 500, timeoutCheckMs: 250, maxConnectionsPerAddress: CAP },
  });
  sites = registerTestSites(c.store, Array.from({ length: CAP + 5 }, (_, i) => `site-${i}`));
  token = c.tokens.create('data-scientist').token;
  url = await c.listen(0);
  port = Number(new URL(url).port);
});
afterAll(async () => {
  await c.close();
});

/** Opens a TCP connection, writes `text`, and resolves with what came back and when it closed (ms, or null if still open after `waitMs`). */
async function stall(text: string, waitMs = 6000, localAddress = '127.0.0.1'): Promise<{ closedAfterMs: number | null; reply: string }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  let reply = '';
  socket.on('data', (d: Buffer) => (reply += d.toString()));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  const t0 = performance.now();
  socket.write(text);
  const closed = await Promise.race([new Promise<number>((r) => socket.once('close', () => r(performance.now() - t0))), new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
  socket.destroy();
  return { closedAfterMs: closed, reply };
}

const healthz = async (): Promise<number> => (await fetch(`${url}/healthz`)).status;

describe('netLimits', () => {
  it('fills in the defaults and refuses limits that are not positive numbers, or headers allowed longer than the request', () => {
    expect(netLimits({ maxPendingHellos: 5, helloTimeoutMs: undefined })).toEqual({ ...DEFAULT_NET_LIMITS, maxPendingHellos: 5 });
    for (const bad of [{ headersTimeoutMs: Number.NaN }, { maxConnectionsPerAddress: 0 }, { keepAliveTimeoutMs: Infinity }, { headersTimeoutMs: 10_000, requestTimeoutMs: 5_000 }]) {
      expect(() => netLimits(bad)).toThrow(expect.objectContaining({ code: 'E_BAD_REQUEST' }));
    }
  });
});

describe('HTTP timeouts', () => {
  it('a POST whose body never completes is closed with 408 after the request timeout', async () => {
    const r = await stall(`POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":`);
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeLessThan(4000); // 1 s timeout, checked every 250 ms: generous
    expect(r.reply).toMatch(/^HTTP\/1.1 408/);
  });

  it('a request whose headers never end is closed after the headers timeout', async () => {
    const r = await stall('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeLessThan(4000);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const r = await stall('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(r.reply).toMatch(/^HTTP\/1.1 200/);
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeLessThan(4000);
  });
});

describe('connections per address', () => {
  it(`an address holding 300 stalled connections keeps ${CAP}; the API and admitted sites carry on`, async () => {
    const attacker = await Promise.all(
      Array.from({ length: 300 }, async () => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
        s.on('error', () => {});
        const state = { open: true };
        s.once('close', () => (state.open = false));
        await new Promise((r) => s.once('connect', r).once('close', r));
        s.write('POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
        return { s, state };
      }),
    );
    // The coordinator accepts them as its event loop gets to them: wait until it has seen them all.
    for (const until = Date.now() + 5000; c.connections.refused < 300 - CAP && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 100));
    const stillOpen = attacker.filter((a) => a.state.open).length;
    expect(stillOpen).toBeLessThanOrEqual(CAP);
    expect(c.connections.count('127.0.0.2')).toBeLessThanOrEqual(CAP);
    expect(c.connections.refused).toBeGreaterThanOrEqual(300 - CAP);
    // Meanwhile, from another address: the API answers and more sites than the cap are admitted.
    expect(await healthz()).toBe(200);
    const peers = [];
    for (const s of Object.values(sites)) peers.push(await TestPeer.admit(url, s));
    expect(c.gateway!.connectedSites()).toHaveLength(CAP + 5);
    peers[0]!.send('garbage');
    await peers[0]!.errorWith('E_BAD_JSON');
    expect(await healthz()).toBe(200);
    for (const p of peers) p.close();
    for (const a of attacker) a.s.destroy();
  });
});
