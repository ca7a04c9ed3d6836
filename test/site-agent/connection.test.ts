// The agent's connection: where it dials, and how it redials a coordinator that went away, with
// exponential backoff and real jitter. The random source and the clock are injected, so the
// delays are checked exactly and no test waits them out.

import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type CoordinatorMessage, type Hello } from '../../shared/wire.js';
import { agentUrl, backoffDelay, Connection, type ConnectionOptions } from '../../site-agent/connection.js';
import { FakeCoordinator } from './fake-coordinator.js';
import { until } from './helpers.js';
import { challenge as scriptedChallenge, welcome } from './scripted-coordinator.js';

const hello: Hello = { type: 'hello', v: PROTOCOL_VERSION, siteId: 'site-a', nonce: 'a'.repeat(64), signature: 'c'.repeat(128), replica: { length: 0, headHash: '0'.repeat(64) }, backend: 'cpu' };
const challenge = scriptedChallenge('b'.repeat(64));

/** A clock the test turns by hand: records each delay asked for, dials only when fired. */
function manualClock(): { waits: number[]; schedule: NonNullable<ConnectionOptions['schedule']>; armed(): boolean; fire(): void } {
  const waits: number[] = [];
  let next: (() => void) | null = null;
  return {
    waits,
    schedule: (dial, delayMs) => {
      waits.push(delayMs);
      next = dial;
      return () => {
        next = null;
      };
    },
    armed: () => next !== null,
    fire: () => {
      const dial = next;
      next = null;
      dial?.();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}


const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function connection(url: string, opts: Partial<ConnectionOptions>, received: CoordinatorMessage[] = []): { conn: Connection; log: string[] } {
  const log: string[] = [];
  const conn = new Connection({ coordinatorUrl: url, log: (l) => log.push(l), minDelayMs: 100, maxDelayMs: 800, ...opts });
  conn.start({ hello: () => hello, onMessage: (m) => void received.push(m), onBinary: () => {} });
  cleanup.push(() => conn.close());
  return { conn, log };
}

describe('connection helpers', () => {
  it('maps the coordinator URL to the agent WebSocket endpoint', () => {
    expect(agentUrl('http://localhost:8080')).toBe('ws://localhost:8080/v1/agents');
    expect(agentUrl('https://fl.example.org/fedrx/')).toBe('wss://fl.example.org/fedrx/v1/agents');
    expect(agentUrl('ws://10.0.0.1:9000')).toBe('ws://10.0.0.1:9000/v1/agents');
    expect(() => agentUrl('ftp://x')).toThrow(/http\(s\) or ws\(s\)/);
  });

  it('backs off from 0.5 s doubling to a 10 s cap, each delay drawn from the upper half of its ceiling', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, 500, 10_000, () => 1))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelay(0, 500, 10_000, () => 0)).toBe(250);
    expect(backoffDelay(2, 500, 10_000, () => 0.25)).toBe(1000 + 250);
    expect(backoffDelay(40, 500, 10_000, () => 0)).toBe(5000);
    expect(backoffDelay(3)).toBeGreaterThanOrEqual(2000); // the defaults, with Math.random
    expect(backoffDelay(3)).toBeLessThanOrEqual(4000);
  });
});

describe('redialling a coordinator that went away', () => {
  it('waits a doubling, jittered delay before each new dial, drawn from the injected random source', async () => {
    const clock = manualClock();
    const draws = [0, 0.5, 0.5, 0.25, 0.75, 0.1];
    let i = 0;
    const { log } = connection(`http://127.0.0.1:${await freePort()}`, { random: () => draws[i++]!, schedule: clock.schedule });
    for (let n = 1; n <= draws.length; n++) {
      await until(() => clock.armed(), `retry ${n} scheduled`);
      expect(clock.waits.length).toBe(n); // one dial per delay, none before the clock fires
      clock.fire();
    }
    // Ceilings 100, 200, 400, 800 (the cap), 800, 800 ms; each delay is half its ceiling plus the draw's share of the other half.
    expect(clock.waits).toEqual([50, 150, 300, 500, 700, 440]);
    expect(log.filter((l) => /^connection error: .*ECONNREFUSED/.test(l)).length).toBeGreaterThanOrEqual(draws.length);
    expect(log).toContain('disconnected (code 1006); retrying in 0.1 s');
  });

  it('comes back by itself when the coordinator returns, and starts again from the shortest delay once welcomed', async () => {
    const port = await freePort();
    const clock = manualClock();
    const received: CoordinatorMessage[] = [];
    const { conn } = connection(`http://127.0.0.1:${port}`, { random: () => 0, schedule: clock.schedule }, received);
    for (let n = 1; n <= 3; n++) {
      await until(() => clock.armed(), `retry ${n} scheduled`);
      if (n < 3) clock.fire();
    }
    expect(clock.waits).toEqual([50, 100, 200]);

    const coord = await FakeCoordinator.start(port); // back, on the same address
    cleanup.push(() => coord.stop());
    clock.fire();
    let sock = await coord.nextAgent();
    sock.sendJson(challenge);
    expect(await sock.nextJson()).toEqual(hello);
    expect(conn.connected).toBe(true);
    sock.ws.terminate(); // dropped before any welcome: the backoff carries on
    await until(() => clock.armed(), 'a retry after the drop');
    expect(clock.waits.at(-1)).toBe(400);

    clock.fire();
    sock = await coord.nextAgent();
    sock.sendJson(challenge);
    await sock.nextJson();
    sock.sendJson(welcome(0, '0'.repeat(64)));
    await until(() => received.some((m) => m.type === 'welcome'), 'the welcome');
    sock.ws.terminate();
    await until(() => clock.armed(), 'a retry after the welcomed connection dropped');
    expect(clock.waits.at(-1)).toBe(50);
  });

  it('after close, neither dials again nor complains about what it could not send', async () => {
    const clock = manualClock();
    const { conn, log } = connection(`http://127.0.0.1:${await freePort()}`, { schedule: clock.schedule });
    await until(() => clock.armed(), 'the first retry');
    await conn.close();
    expect(clock.armed()).toBe(false); // the pending retry was cancelled
    expect(conn.send('{}')).toBe(false);
    expect(log.some((l) => l.includes('dropped'))).toBe(false);
  });
});
