// The agent's one WebSocket to the coordinator. It dials out (hospitals rarely accept inbound
// connections), answers the coordinator's challenge with a signed hello on every (re)connect, and keeps redialling with capped, jittered
// exponential backoff so a fleet of sites does not stampede a restarted coordinator.
// Whatever the server sends is untrusted: bad input is logged and dropped, never thrown.

import WebSocket from 'ws';
import { isFedrxError } from '../shared/errors.js';
import { AGENT_PATH, messageText, parseCoordinatorMessage, type Challenge, type CoordinatorMessage, type Hello } from '../shared/wire.js';

export interface ConnectionOptions {
  coordinatorUrl: string;
  /**
   * Answers the challenge that opens every connection: a signed hello, or null to stay silent
   * (e.g. the coordinator's key is not the pinned one; the callback then closes the connection).
   */
  hello: (challenge: Challenge) => Hello | null | Promise<Hello | null>;
  onMessage: (msg: CoordinatorMessage) => void | Promise<void>;
  onBinary: (frame: Buffer) => void | Promise<void>;
  log: (line: string) => void;
  /** First retry delay and cap (ms); tests shorten them. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** http(s)://host[/prefix] → ws(s)://host[/prefix]/v1/agents. */
export function agentUrl(coordinatorUrl: string): string {
  const u = new URL(coordinatorUrl);
  const scheme: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const mapped = scheme[u.protocol];
  if (mapped === undefined) throw new Error(`coordinator URL must be http(s) or ws(s), got ${u.protocol}`);
  u.protocol = mapped;
  u.pathname = u.pathname.replace(/\/+$/, '') + AGENT_PATH;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** Delay before retry number `attempt` (0-based): doubling from min to max, half of it random. */
export function backoffDelay(attempt: number, minMs = 500, maxMs = 10_000, rand: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + rand() * (ceiling / 2);
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class Connection {
  private ws: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly url: string;

  constructor(private readonly opts: ConnectionOptions) {
    this.url = agentUrl(opts.coordinatorUrl);
    this.dial();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Sends if connected; returns false (and logs) when the message had to be dropped. */
  send(data: string | Buffer): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) {
      this.opts.log('not connected: a message to the coordinator was dropped');
      return false;
    }
    ws.send(data, (err) => {
      if (err) this.opts.log(`send failed: ${err.message}`);
    });
    return true;
  }

  /** Stops reconnecting and closes the socket; resolves once it is closed. */
  close(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'agent stopping');
    });
  }

  private dial(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.url, { handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on('open', () => this.opts.log(`connected to ${this.url}; waiting for the coordinator's challenge`));
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('error', (err) => this.opts.log(`connection error: ${err.message}`));
    ws.on('close', (code) => {
      if (this.ws === ws) this.ws = undefined;
      if (this.stopped) return;
      const delay = backoffDelay(this.attempt++, this.opts.minDelayMs, this.opts.maxDelayMs);
      this.opts.log(`disconnected (code ${code}); retrying in ${(delay / 1000).toFixed(1)} s`);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.dial();
      }, delay);
    });
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.guard(() => this.opts.onBinary(toBuffer(data)));
      return;
    }
    let msg: CoordinatorMessage;
    try {
      msg = parseCoordinatorMessage(toBuffer(data).toString('utf8'));
    } catch (e) {
      // Only the code and reason: the frame itself may be large or hostile.
      this.opts.log(`ignored a message from the coordinator: ${isFedrxError(e) ? `${e.code} ${e.message}` : String(e)}`);
      return;
    }
    if (msg.type === 'challenge') {
      const ws = this.ws;
      this.guard(async () => {
        const hello = await this.opts.hello(msg);
        if (hello !== null && ws?.readyState === WebSocket.OPEN) ws.send(messageText(hello));
      });
      return;
    }
    // A welcome means the server accepted us: the next outage starts again from the short delay.
    if (msg.type === 'welcome') this.attempt = 0;
    this.guard(() => this.opts.onMessage(msg));
  }

  /** Runs a handler so that neither a throw nor a rejection escapes into the socket's events. */
  private guard(fn: () => void | Promise<void>): void {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((e: unknown) => this.opts.log(`handler failed: ${(e as Error).message}`));
    } catch (e) {
      this.opts.log(`handler failed: ${(e as Error).message}`);
    }
  }
}
