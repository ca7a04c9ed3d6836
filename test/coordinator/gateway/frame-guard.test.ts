// Oversized frames are refused from their header, before the coordinator keeps their bytes: a few
// KB before hello, then what the socket's state allows (control messages, the open run's
// statistics report and update size). Real coordinator, raw sockets that declare huge lengths.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { DEFAULT_CONTROL_FRAME_BYTES, DEFAULT_HELLO_FRAME_BYTES } from '../../../coordinator/gateway/frame-caps.js';
import { PROTOCOL_VERSION } from '../../../shared/wire.js';
import { OPCODE_BINARY, OPCODE_TEXT, RawWs } from '../../helpers/raw-ws.js';
import { tempDir } from '../../helpers/temp.js';
import { registerTestSites, type TestSite } from '../../helpers/test-peer.js';

const MB = 1024 * 1024;
let c: Coordinator;
let url: string;
let sites: Record<string, TestSite>;

beforeAll(async () => {
  // The operator's ceiling as large as the old single cap, so only the per-state caps can refuse.
  c = await buildCoordinator({ db: join(tempDir('frame-guard'), 'c.sqlite'), log: () => {}, maxFrameBytes: 256 * MB });
  sites = registerTestSites(c.store, ['site-a', 'site-b', 'site-c', 'site-d', 'site-e']);
  url = await c.listen(0);
});
afterAll(async () => {
  await c.close();
});

/** Sends a header declaring `declared` bytes and streams them; how the coordinator took it. */
async function declare(ws: RawWs, opcode: number, declared: number): Promise<{ accepted: number; ms: number }> {
  const t0 = performance.now();
  ws.sendHeader(opcode, declared);
  const accepted = await ws.stream(declared);
  await Promise.race([ws.ended, new Promise((r) => setTimeout(r, 5000))]);
  return { accepted, ms: performance.now() - t0 };
}

const arrayBufferBytes = (): number => process.memoryUsage().arrayBuffers;

async function healthy(): Promise<boolean> {
  const res = await fetch(`${url}/healthz`);
  return res.status === 200 && ((await res.json()) as { ok: boolean }).ok;
}

describe('frames before hello', () => {
  it.each([
    ['a 30 MB text frame', OPCODE_TEXT, 30 * MB],
    ['a 250 MB text frame', OPCODE_TEXT, 250 * MB],
    ['a 200 MB binary frame', OPCODE_BINARY, 200 * MB],
  ])('%s is refused by its header (1009) with a few MB read at most', async (_what, opcode, declared) => {
    const before = arrayBufferBytes();
    const ws = await RawWs.open(url);
    await ws.next((m) => m.type === 'challenge');
    const { accepted, ms } = await declare(ws, opcode, declared);
    expect(ws.isOpen).toBe(false);
    expect(ws.closeCode).toBe(1009);
    // What loopback socket buffers absorb before the close is seen; never the declared size.
    expect(accepted).toBeLessThan(32 * MB);
    expect(ms).toBeLessThan(5000);
    expect(arrayBufferBytes() - before).toBeLessThan(32 * MB);
    expect(await healthy()).toBe(true);
    ws.destroy();
  });

  it(`takes a hello-sized frame: up to ${DEFAULT_HELLO_FRAME_BYTES} bytes are read and answered`, async () => {
    const ws = await RawWs.open(url);
    ws.sendText(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, pad: 'x'.repeat(DEFAULT_HELLO_FRAME_BYTES - 100) }));
    expect(await ws.next((m) => m.type === 'error')).toMatchObject({ code: 'E_BAD_MESSAGE' });
    ws.destroy();
  });
});

describe('frames from admitted sites', () => {
  it('four concurrent 200 MB binary frames are refused by their headers while no run expects updates', async () => {
    const before = arrayBufferBytes();
    const peers = await Promise.all(['site-a', 'site-b', 'site-c', 'site-d'].map(async (id) => {
      const ws = await RawWs.open(url);
      expect(await ws.hello(id, sites[id]!.keys)).toMatchObject({ type: 'welcome' });
      return ws;
    }));
    const results = await Promise.all(peers.map((ws) => declare(ws, OPCODE_BINARY, 200 * MB)));
    for (const [i, r] of results.entries()) {
      expect(peers[i]!.closeCode).toBe(1009);
      expect(r.accepted).toBeLessThan(32 * MB);
    }
    expect(arrayBufferBytes() - before).toBeLessThan(64 * MB);
    expect(await healthy()).toBe(true);
    for (const ws of peers) ws.destroy();
  });

  it('binary frames of the size the open run expects pass the header check; larger ones do not', async () => {
    c.gateway!.expectRun({ statsReportBytes: 200_000, updateFrameBytes: 100_000 });
    try {
      const ws = await RawWs.open(url);
      await ws.hello('site-e', sites['site-e']!.keys);
      // Within the run's size: read and then judged on its contents (not a frame at all).
      ws.sendFrame(OPCODE_BINARY, Buffer.alloc(90_000));
      expect(await ws.next((m) => m.type === 'error')).toMatchObject({ code: 'E_FRAME_HEADER' });
      // A statistics report may be as large as the run's study needs; an endorsement may not.
      ws.sendText(JSON.stringify({ type: 'endorsement', v: PROTOCOL_VERSION, pad: 'x'.repeat(DEFAULT_CONTROL_FRAME_BYTES) }));
      expect(await ws.next((m) => m.type === 'error' && m.code === 'E_FRAME_OVERSIZED')).toMatchObject({ message: /endorsement message of \d+ characters exceeds 65536/ });
      expect(ws.isOpen).toBe(true);
      const { accepted } = await declare(ws, OPCODE_BINARY, 150_000);
      expect(ws.closeCode).toBe(1009);
      expect(accepted).toBe(150_000); // all of it fits in socket buffers, but none is kept
      ws.destroy();
    } finally {
      c.gateway!.expectRun(null);
    }
  });
});
