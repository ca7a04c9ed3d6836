// Limits on what a client may hold open before it has proved anything: HTTP timeouts (headers,
// whole request with its body, keep-alive idle) and a cap on concurrent connections per address
// that do not belong to an admitted site. An admitted site's WebSocket stops counting.

import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { FedrxError } from '../../shared/errors.js';
import { RateLimiter } from '../trust/rate-limit.js';

export interface NetLimits {
  /** Time to receive a request's headers (Node closes the connection with 408). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above: a stalled request lives up to this much longer. */
  timeoutCheckMs: number;
  /** Concurrent connections per client address, not counting admitted sites' WebSockets. */
  maxConnectionsPerAddress: number;
  /** WebSocket upgrades waiting for their hello, from all addresses together. */
  maxPendingHellos: number;
  /** Time a WebSocket has to send its hello. */
  helloTimeoutMs: number;
  /** Failed hellos per address per minute; then its upgrades get 429 until the minute is over. */
  failedHellosPerMinute: number;
  /** Disputes per site per hour, across its connections. */
  disputesPerHour: number;
}

// Sized for hospitals: a clinic's 16 MB batch over a slow link fits in two minutes, a site behind
// a NAT shared with a few dozen browsers and scripts is not refused.
export const DEFAULT_NET_LIMITS: NetLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 10_000,
  timeoutCheckMs: 5_000,
  maxConnectionsPerAddress: 64,
  maxPendingHellos: 256,
  helloTimeoutMs: 10_000,
  failedHellosPerMinute: 10,
  disputesPerHour: 10,
};

export function netLimits(given: Partial<NetLimits> = {}): NetLimits {
  const l = { ...DEFAULT_NET_LIMITS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isFinite(v) || v <= 0) throw new FedrxError('E_BAD_REQUEST', `${k} must be a positive number, not ${v}`);
  }
  if (l.headersTimeoutMs > l.requestTimeoutMs) throw new FedrxError('E_BAD_REQUEST', 'headersTimeoutMs must not exceed requestTimeoutMs');
  return l;
}

/** The options Node's HTTP(S) server takes at creation for these limits. */
export function serverTimeoutOptions(l: NetLimits): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  return { headersTimeout: l.headersTimeoutMs, requestTimeout: l.requestTimeoutMs, keepAliveTimeout: l.keepAliveTimeoutMs, connectionsCheckingInterval: l.timeoutCheckMs };
}

const keyOf = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string => `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;

/** Counts each address's connections and refuses those over the cap as they open. */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  /** address:port of connections an admitted site now holds (TLS sockets share their TCP socket's). */
  private readonly admitted = new Set<string>();
  /** One log line per address per minute, however many connections it is refused. */
  private readonly refusalLogs = new RateLimiter({ limit: 1, windowMs: 60_000 });
  refused = 0;

  constructor(
    server: Server | HttpsServer,
    private readonly l: NetLimits,
    private readonly log: (line: string) => void,
  ) {
    server.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  /** Connections from `address` that count against its cap now. */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }

  /** A site proved itself on this connection: it no longer counts against its address. */
  admit(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): void {
    const key = keyOf(socket);
    const address = socket.remoteAddress ?? '?';
    if (this.admitted.has(key) || this.count(address) === 0) return;
    this.admitted.add(key);
    this.release(address);
  }

  private onConnection(socket: Socket): void {
    const address = socket.remoteAddress ?? '?';
    const key = keyOf(socket);
    if (this.count(address) >= this.l.maxConnectionsPerAddress) {
      this.refused++;
      if (this.refusalLogs.take(address)) {
        this.log(`refusing connections from ${address}: E_BUSY it already holds ${this.count(address)} unauthenticated connections (the cap)`);
      }
      socket.destroy();
      return;
    }
    this.open.set(address, this.count(address) + 1);
    socket.once('close', () => {
      if (this.admitted.delete(key)) return;
      this.release(address);
    });
  }

  private release(address: string): void {
    const n = this.count(address) - 1;
    if (n <= 0) this.open.delete(address);
    else this.open.set(address, n);
  }
}
