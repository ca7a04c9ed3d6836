// A scripted stand-in for the coordinator: accepts agent sockets on AGENT_PATH and lets a test
// read what each agent sends, in order, and send it anything (including garbage).

import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { AGENT_PATH } from '../../shared/wire.js';

export type Received = { kind: 'text'; text: string } | { kind: 'binary'; data: Buffer };

function waitable<T>(): { push(x: T): void; next(timeoutMs: number, what: string): Promise<T>; pending(): number } {
  const items: T[] = [];
  const waiters: Array<(x: T) => void> = [];
  return {
    push(x) {
      const w = waiters.shift();
      if (w) w(x);
      else items.push(x);
    },
    next(timeoutMs, what) {
      const ready = items.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(done), 1);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        const done = (x: T): void => {
          clearTimeout(timer);
          resolve(x);
        };
        waiters.push(done);
      });
    },
    pending: () => items.length,
  };
}

export class AgentSocket {
  private readonly inbox = waitable<Received>();
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.inbox.push(isBinary ? { kind: 'binary', data: buf } : { kind: 'text', text: buf.toString('utf8') });
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  next(timeoutMs = 10_000): Promise<Received> {
    return this.inbox.next(timeoutMs, 'a message from the agent');
  }

  async nextJson(timeoutMs?: number): Promise<Record<string, unknown>> {
    const m = await this.next(timeoutMs);
    if (m.kind !== 'text') throw new Error('expected a text frame, got binary');
    return JSON.parse(m.text) as Record<string, unknown>;
  }

  async nextBinary(timeoutMs?: number): Promise<Buffer> {
    const m = await this.next(timeoutMs);
    if (m.kind !== 'binary') throw new Error(`expected a binary frame, got text ${m.text.slice(0, 200)}`);
    return m.data;
  }

  /** Messages received and not yet read. */
  pending(): number {
    return this.inbox.pending();
  }

  sendJson(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }
}

export class FakeCoordinator {
  private readonly sockets = waitable<AgentSocket>();
  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (ws) => this.sockets.push(new AgentSocket(ws)));
  }

  /** On `port` (default: any free one), e.g. the port of a coordinator that went away. */
  static async start(port = 0): Promise<FakeCoordinator> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port, path: AGENT_PATH });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const bound = (wss.address() as AddressInfo).port;
    return new FakeCoordinator(wss, `http://127.0.0.1:${bound}`);
  }

  nextAgent(timeoutMs = 10_000): Promise<AgentSocket> {
    return this.sockets.next(timeoutMs, 'an agent connection');
  }

  waitingConnections(): number {
    return this.sockets.pending();
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
