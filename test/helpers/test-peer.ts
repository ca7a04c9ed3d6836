// A protocol-level site peer for integration tests: speaks the real wire format to a real
// coordinator, so tests can send exactly the good and bad frames they need.

import WebSocket from 'ws';
import { AGENT_PATH, PROTOCOL_VERSION, decodeTaskFrame, type TaskHeader } from '../../shared/wire.js';
import { GENESIS_PREV_HASH } from '../../shared/ledger.js';
import type { Weights } from '../../shared/tensors.js';

export interface Received {
  json: Record<string, unknown>[];
  tasks: { header: TaskHeader; weights: Weights }[];
}

export class TestPeer {
  readonly received: Received = { json: [], tasks: [] };
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.received.tasks.push(decodeTaskFrame(data));
      else this.received.json.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(baseUrl: string, hello?: Record<string, unknown> | string): Promise<TestPeer> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + AGENT_PATH);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const peer = new TestPeer(ws);
    if (hello !== undefined) ws.send(typeof hello === 'string' ? hello : JSON.stringify(hello));
    return peer;
  }

  static hello(siteId: string, token: string): Record<string, unknown> {
    return { type: 'hello', v: PROTOCOL_VERSION, siteId, token, replica: { length: 0, headHash: GENESIS_PREV_HASH } };
  }

  /** Waits until `pred` holds over what was received (checked after every message). */
  async until<T>(pred: (r: Received) => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.received);
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(this.received.json.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private readonly seenErrors = new Set<Record<string, unknown>>();

  /** The next error with this code not returned before. */
  async errorWith(code: string): Promise<Record<string, unknown>> {
    const m = await this.until((r) => r.json.find((x) => x.type === 'error' && x.code === code && !this.seenErrors.has(x)));
    this.seenErrors.add(m);
    return m;
  }

  task(kind: 'train' | 'evaluate', round: number): Promise<{ header: TaskHeader; weights: Weights }> {
    return this.until((r) => r.tasks.find((t) => t.header.kind === kind && t.header.round === round));
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  close(): void {
    this.ws.close();
  }
}
