// The agents' WebSocket endpoint: authenticates each socket as one site (a challenge-response
// Ed25519 signature over a single-use nonce), validates every frame and every signature at the
// boundary, and hands well-formed, signed messages to the round runner. It moves and checks
// bytes; it never decides anything about rounds.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { FedrxError, isFedrxError, type ErrorCode } from '../../shared/errors.js';
import { hashStats } from '../../shared/feature-stats.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import { signHead } from '../../shared/ledger-head.js';
import { helloBody, statsBody, updateBody, verify, type KeyPair, type SignatureDomain } from '../../shared/signing.js';
import {
  AGENT_PATH,
  decodeExactProductFrame,
  decodeExactStatsFrame,
  decodeUpdateFrame,
  errorMessage,
  parseAgentMessage,
  PROTOCOL_VERSION,
  type Challenge,
  type Dispute,
  type Endorsement,
  type EvalResult,
  type ExactProductHeader,
  type ExactStatsHeader,
  type Hello,
  type StatsReport,
  type TaskError,
  type UpdateHeader,
  type Welcome,
} from '../../shared/wire.js';
import type { NamedTensor64, Weights } from '../../shared/tensors.js';
import { frameKind } from '../../shared/tensor-codec.js';
import { endorsementRequest } from '../trust/endorsement-sync.js';
import type { Endorsements } from '../trust/endorsements.js';
import { DEFAULT_CONTROL_FRAME_BYTES, DEFAULT_HELLO_FRAME_BYTES, frameCap, type FrameCapOptions, type RunFrameLimits } from './frame-caps.js';
import { capIncomingFrames } from './frame-guard.js';
import type { ConnectionLimiter, NetLimits } from './connection-limits.js';
import { RateLimiter } from './rate-limit.js';
import type { Store } from '../store/store.js';

export interface GatewayOptions {
  store: Store;
  /** The coordinator's ledger key: its public half goes out in every challenge. */
  signer: KeyPair;
  endorsements: Endorsements;
  log: (line: string) => void;
  /** No frame is ever larger; the caps below and the open run's limits are lower. */
  maxFrameBytes: number;
  /** Any frame before hello (default 4 KB). */
  helloFrameBytes?: number;
  /** Control messages, and binary frames while no run is open (default 64 KB). */
  controlFrameBytes?: number;
  /** Pending hellos, failed hellos per address, disputes per site, and the hello timeout. */
  limits: Pick<NetLimits, 'maxPendingHellos' | 'failedHellosPerMinute' | 'disputesPerHour' | 'helloTimeoutMs'>;
  /** Told when a connection's site is admitted, so that it stops counting against its address. */
  connections?: ConnectionLimiter;
  /** How long a challenge nonce may be answered; a used nonce is remembered twice as long. */
  nonceTtlMs?: number;
  /** Heartbeat: a ping this often; a site that has not answered the previous one is disconnected. */
  heartbeatMs?: number;
}

export interface GatewayEvents {
  update: [siteId: string, header: UpdateHeader, weights: Weights];
  'exact-stats': [siteId: string, header: ExactStatsHeader, tensors: NamedTensor64[]];
  'exact-product': [siteId: string, header: ExactProductHeader, tensors: NamedTensor64[]];
  eval: [siteId: string, msg: EvalResult];
  'task-error': [siteId: string, msg: TaskError];
  stats: [siteId: string, msg: StatsReport];
  connected: [siteId: string];
  /** `why`: e.g. that the site did not answer a heartbeat. */
  disconnected: [siteId: string, why: string];
}

const LEDGER_SYNC_CHUNK = 256;
/** Close codes in the private range; the reason carries the error code. */
const CLOSE_REFUSED = 4001;
const CLOSE_REPLACED = 4002;
const MAX_BAD_FRAMES = 100;

interface Peer {
  siteId: string;
  /** The key the site proved it holds at the handshake. */
  publicKey: string;
  ws: WebSocket;
  connectedAt: string;
  backend: string | undefined;
  badFrames: number;
}

export class Gateway extends EventEmitter<GatewayEvents> {
  private readonly wss: WebSocketServer;
  private readonly peers = new Map<string, Peer>();
  private readonly heartbeat: NodeJS.Timeout;
  /** When the last ping went out, and its round trip once answered (ms). */
  private readonly pingSentAt = new WeakMap<WebSocket, number>();
  private readonly pingMs = new WeakMap<WebSocket, number>();
  /** Why the gateway itself closed a socket, for the disconnect event. */
  private readonly closedBecause = new WeakMap<WebSocket, string>();
  /** Challenge nonces: good once, for the socket they were issued to, until they expire. */
  private readonly nonces = new Map<string, { ws: WebSocket; expiresAt: number; used: boolean }>();
  /** Sockets whose hello proved their site. */
  private readonly admitted = new WeakSet<WebSocket>();
  private readonly caps: FrameCapOptions;
  private runLimits: RunFrameLimits | null = null;
  /** Upgraded sockets that have not said hello yet. */
  private pendingHellos = 0;
  /** Refused handshakes per client address: past the limit, its upgrades are refused outright. */
  private readonly failedHellos: RateLimiter;
  /** Disputes per site, across reconnections: an honest agent sends one and leaves. */
  private readonly disputes: RateLimiter;

  constructor(server: Server | HttpsServer, private readonly opts: GatewayOptions) {
    super();
    this.caps = {
      helloBytes: opts.helloFrameBytes ?? DEFAULT_HELLO_FRAME_BYTES,
      controlBytes: opts.controlFrameBytes ?? DEFAULT_CONTROL_FRAME_BYTES,
      maxBytes: opts.maxFrameBytes,
    };
    this.failedHellos = new RateLimiter({ limit: opts.limits.failedHellosPerMinute, windowMs: 60_000 });
    this.disputes = new RateLimiter({ limit: opts.limits.disputesPerHour, windowMs: 3_600_000 });
    this.wss = new WebSocketServer({
      server,
      path: AGENT_PATH,
      maxPayload: opts.maxFrameBytes,
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, status?: number, message?: string) => void) => {
        const refusal = this.upgradeRefusal(info.req);
        if (refusal === null) done(true);
        else done(false, refusal.status, `${refusal.error.code}: ${refusal.error.message}`);
      },
    });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
    const alive = new WeakSet<WebSocket>();
    const heartbeatMs = opts.heartbeatMs ?? 15_000;
    let lastTick = performance.now();
    this.heartbeat = setInterval(() => {
      // A tick that comes late means this process was busy: pongs may be waiting unread, so
      // nobody is judged on it, everyone is pinged again.
      const now = performance.now();
      const late = now - lastTick > 1.5 * heartbeatMs;
      lastTick = now;
      const suspects: WebSocket[] = [];
      for (const ws of this.wss.clients) {
        if (!alive.has(ws) && !late) {
          suspects.push(ws);
          continue;
        }
        alive.delete(ws);
        this.pingSentAt.set(ws, now);
        ws.ping();
      }
      // Judged after this turn's I/O, so a pong already received but not yet read still counts.
      if (suspects.length > 0) {
        setImmediate(() => {
          for (const ws of suspects) {
            if (alive.has(ws)) continue;
            this.closedBecause.set(ws, `no answer to the heartbeat within ${heartbeatMs / 1000} s`);
            ws.terminate();
          }
        });
      }
    }, heartbeatMs);
    this.heartbeat.unref();
    this.wss.on('connection', (ws) => {
      alive.add(ws);
      ws.on('pong', () => {
        alive.add(ws);
        const sent = this.pingSentAt.get(ws);
        if (sent !== undefined) this.pingMs.set(ws, performance.now() - sent);
      });
    });
  }

  /** `pingMs`: round trip of the site's last answered heartbeat, null before the first. */
  connectedSites(): { siteId: string; connectedAt: string; backend: string | undefined; pingMs: number | null }[] {
    return [...this.peers.values()].map((p) => ({ siteId: p.siteId, connectedAt: p.connectedAt, backend: p.backend, pingMs: this.pingMs.get(p.ws) ?? null }));
  }

  isConnected(siteId: string): boolean {
    return this.peers.has(siteId);
  }

  /** Sends to one site; resolves false when the site is gone or the send failed. */
  send(siteId: string, data: Buffer | string): Promise<boolean> {
    const peer = this.peers.get(siteId);
    if (peer === undefined || peer.ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => peer.ws.send(data, (err) => resolve(err === undefined || err === null)));
  }

  sendError(siteId: string, code: ErrorCode, message: string, ref?: { runId: string; round: number }): void {
    void this.send(siteId, JSON.stringify(errorMessage(code, message, ref)));
  }

  /** Closes a site's connection, e.g. when an admin revokes it; returns whether one was open. */
  disconnect(siteId: string, code: ErrorCode, message: string): boolean {
    const peer = this.peers.get(siteId);
    if (peer === undefined) return false;
    peer.ws.send(JSON.stringify(errorMessage(code, message)), () => peer.ws.close(CLOSE_REFUSED, code));
    return true;
  }

  /** What frames sites may send for the open run (statistics, then updates of its model); null when none is open. */
  expectRun(limits: RunFrameLimits | null): void {
    this.runLimits = limits;
  }

  broadcastLedger(entries: LedgerEntry[]): void {
    const text = JSON.stringify({ type: 'ledger-entries', v: PROTOCOL_VERSION, entries });
    for (const siteId of this.peers.keys()) void this.send(siteId, text);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.close(1001, 'coordinator shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** Why an upgrade request is refused before any WebSocket is made for it, or null. */
  private upgradeRefusal(req: IncomingMessage): { status: number; error: FedrxError } | null {
    const address = req.socket.remoteAddress ?? '?';
    const wait = this.failedHellos.retryAfterMs(address);
    if (wait > 0) {
      return { status: 429, error: new FedrxError('E_RATE_LIMITED', `too many failed hellos from this address; retry in ${Math.ceil(wait / 1000)} s`) };
    }
    if (this.pendingHellos >= this.opts.limits.maxPendingHellos) {
      return { status: 503, error: new FedrxError('E_BUSY', `${this.pendingHellos} connections are already waiting for their hello; retry later`) };
    }
    return null;
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const address = req.socket.remoteAddress ?? '?';
    const remote = `${address}:${req.socket.remotePort ?? '?'}`;
    try {
      capIncomingFrames(ws, (kind) => frameCap(kind, this.admitted.has(ws), this.runLimits, this.caps));
    } catch (e) {
      this.opts.log(`!!! ${(e as Error).message}; connection from ${remote} dropped`);
      ws.terminate();
      return;
    }
    this.pendingHellos++;
    let pending = true;
    const settle = (): void => {
      if (pending) this.pendingHellos--;
      pending = false;
    };
    const refuse = (code: ErrorCode, message: string): void => {
      settle();
      this.failedHellos.take(address);
      this.opts.log(`refused agent connection from ${remote}: ${code} ${message}`);
      ws.send(JSON.stringify(errorMessage(code, message)), () => ws.close(CLOSE_REFUSED, code));
    };
    const timer = setTimeout(() => refuse('E_NOT_HELLO', 'no hello within the time allowed'), this.opts.limits.helloTimeoutMs);
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.opts.log(`socket error from ${remote}: ${err.message}`);
        return;
      }
      const beforeHello = !this.admitted.has(ws);
      if (beforeHello) this.failedHellos.take(address); // an oversized first frame is a failed hello too
      this.opts.log(`refused a frame from ${remote}${beforeHello ? ' (before hello)' : ''}: E_FRAME_OVERSIZED its header declares more than allowed; closed (1009)`);
    });
    const challenge = this.issueChallenge(ws);
    ws.once('close', () => {
      clearTimeout(timer);
      settle();
      const n = this.nonces.get(challenge.nonce);
      if (n !== undefined && !n.used) this.nonces.delete(challenge.nonce);
    });
    ws.send(JSON.stringify(challenge));
    // Attacker-controlled until hello has proved, by signature over our nonce, which site it is.
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      let hello: Hello;
      let publicKey: string;
      try {
        if (isBinary) throw new FedrxError('E_NOT_HELLO', 'the first message must be a hello text frame');
        const msg = parseAgentMessage(rawText(data));
        if (msg.type !== 'hello') throw new FedrxError('E_NOT_HELLO', `the first message must be hello, got ${msg.type}`);
        hello = msg;
        publicKey = this.checkHello(ws, hello);
      } catch (e) {
        refuse(isFedrxError(e) ? e.code : 'E_BAD_MESSAGE', (e as Error).message);
        return;
      }
      settle();
      this.opts.connections?.admit(req.socket);
      this.admit(ws, hello, publicKey, remote);
    });
  }

  private issueChallenge(ws: WebSocket): Challenge {
    const ttl = this.opts.nonceTtlMs ?? 30_000;
    const now = Date.now();
    for (const [n, v] of this.nonces) if (now > v.expiresAt + ttl) this.nonces.delete(n);
    const nonce = randomBytes(32).toString('hex');
    this.nonces.set(nonce, { ws, expiresAt: now + ttl, used: false });
    return { type: 'challenge', v: PROTOCOL_VERSION, nonce, coordinatorKey: this.opts.signer.publicKey, expiresInSec: Math.max(1, Math.floor(ttl / 1000)) };
  }

  /**
   * The nonce is this socket's, fresh and unused; the site is registered, not revoked, and signed
   * it. Returns the key the site proved it holds.
   */
  private checkHello(ws: WebSocket, hello: Hello): string {
    const issued = this.nonces.get(hello.nonce);
    if (issued === undefined) throw new FedrxError('E_BAD_NONCE', 'the nonce was not issued by this coordinator');
    if (issued.used) throw new FedrxError('E_NONCE_REPLAYED', 'the nonce was already used: a replayed handshake');
    if (issued.ws !== ws) throw new FedrxError('E_BAD_NONCE', 'the nonce was issued to another connection');
    if (Date.now() > issued.expiresAt) throw new FedrxError('E_NONCE_EXPIRED', 'the nonce expired before the hello arrived');
    issued.used = true;
    const site = this.opts.store.sites.get(hello.siteId);
    if (site === null) throw new FedrxError('E_UNKNOWN_SITE', `site ${hello.siteId} is not registered`);
    if (site.revokedAt !== null) throw new FedrxError('E_SITE_REVOKED', `site ${hello.siteId} was revoked`);
    // Only the claimed site's current key: trying every registered key would let anyone with a
    // site id make the coordinator do one verification per site for each forged hello.
    if (!verify('hello', helloBody(hello.siteId, hello.nonce, this.opts.signer.publicKey), hello.signature, site.publicKey)) {
      throw new FedrxError('E_BAD_SIGNATURE', `hello signature does not verify under site ${hello.siteId}'s key`);
    }
    return site.publicKey;
  }

  /**
   * Throws unless `signature` is `siteId`'s. A signature by another registered site's key is
   * named as such: that site is trying to speak for this one.
   */
  private checkSigned(siteId: string, publicKey: string, domain: SignatureDomain, body: unknown, signature: string, what: string): void {
    if (verify(domain, body, signature, publicKey)) return;
    const impostor = this.opts.store.sites.list().find((s) => s.id !== siteId && verify(domain, body, signature, s.publicKey));
    if (impostor !== undefined) {
      this.opts.log(`!!! ${what} for site ${siteId} was signed with the key of site ${impostor.id}`);
      throw new FedrxError('E_IDENTITY_MISMATCH', `${what} for site ${siteId} is signed with another registered site's key`);
    }
    throw new FedrxError('E_BAD_SIGNATURE', `${what} signature does not verify under site ${siteId}'s key`);
  }

  private admit(ws: WebSocket, hello: Hello, publicKey: string, remote: string): void {
    const previous = this.peers.get(hello.siteId);
    if (previous !== undefined) {
      // A reconnecting agent whose old socket has not timed out yet: the newest connection wins.
      this.peers.delete(hello.siteId);
      previous.ws.close(CLOSE_REPLACED, 'replaced by a newer connection');
    }
    const peer: Peer = { siteId: hello.siteId, publicKey, ws, connectedAt: new Date().toISOString(), backend: hello.backend, badFrames: 0 };
    this.peers.set(hello.siteId, peer);
    this.admitted.add(ws);
    this.opts.store.sites.touch(hello.siteId);
    const { length, headHash } = this.opts.store.ledger.head();
    const welcome: Welcome = { type: 'welcome', v: PROTOCOL_VERSION, siteId: hello.siteId, ledger: { length, headHash }, head: signHead({ length, headHash }, this.opts.signer) };
    ws.send(JSON.stringify(welcome));
    this.syncReplica(peer, hello.replica);
    // After the entries the site lacks, so it holds every entry it is asked to endorse.
    const lacking = endorsementRequest(this.opts.store, hello.siteId);
    if (lacking !== null) void this.send(hello.siteId, JSON.stringify(lacking));
    this.opts.log(`site ${hello.siteId} connected from ${remote} (backend ${hello.backend ?? 'unknown'})`);
    ws.on('message', (data, isBinary) => this.onMessage(peer, data, isBinary));
    ws.on('close', (code) => {
      if (this.peers.get(peer.siteId) === peer) {
        this.peers.delete(peer.siteId);
        const why = this.closedBecause.get(ws) ?? `connection closed (code ${code})`;
        this.opts.log(`site ${peer.siteId} disconnected: ${why}`);
        this.emit('disconnected', peer.siteId, why);
      }
    });
    this.emit('connected', hello.siteId);
  }

  /** Sends the entries the site's replica lacks, if its head is a prefix of our chain. */
  private syncReplica(peer: Peer, replica: Hello['replica']): void {
    const ours = this.opts.store.ledger.head();
    if (replica.length > ours.length) {
      this.sendError(peer.siteId, 'E_REPLICA_DIVERGED', `site replica has ${replica.length} entries, coordinator has ${ours.length}`);
      return;
    }
    if (replica.length > 0 && this.opts.store.ledger.get(replica.length - 1)?.entryHash !== replica.headHash) {
      this.sendError(peer.siteId, 'E_REPLICA_DIVERGED', `site replica entry ${replica.length - 1} differs from the coordinator's`);
      return;
    }
    for (let from = replica.length; from < ours.length; from += LEDGER_SYNC_CHUNK) {
      const entries = this.opts.store.ledger.list(from, LEDGER_SYNC_CHUNK);
      void this.send(peer.siteId, JSON.stringify({ type: 'ledger-entries', v: PROTOCOL_VERSION, entries }));
    }
  }

  private onMessage(peer: Peer, data: RawData, isBinary: boolean): void {
    try {
      // A site revoked or re-keyed while connected (e.g. by `fedrx site revoke` or `fedrx site
      // register` on the database, which cannot reach this process) stops here.
      const current = this.opts.store.sites.get(peer.siteId);
      if (current?.revokedAt !== null) {
        this.disconnect(peer.siteId, 'E_SITE_REVOKED', `site ${peer.siteId} was revoked`);
        return;
      }
      if (current.publicKey !== peer.publicKey) {
        this.disconnect(peer.siteId, 'E_SITE_REKEYED', `site ${peer.siteId} has a new public key: reconnect and sign with it`);
        return;
      }
      const kind = isBinary ? frameKind(rawBytes(data)) : null;
      if (kind === 'exact-stats' || kind === 'exact-product') {
        // Attacker-controlled, as an update: sizes and header checked before the data is copied.
        const frame = kind === 'exact-stats' ? decodeExactStatsFrame(rawBytes(data)) : decodeExactProductFrame(rawBytes(data));
        const { header, tensors } = frame;
        if (header.siteId !== peer.siteId) {
          throw new FedrxError('E_IDENTITY_MISMATCH', `exact-fit answer claims site ${header.siteId} on the socket of site ${peer.siteId}`);
        }
        this.checkSigned(peer.siteId, peer.publicKey, 'update', updateBody(header), header.signature, 'exact-fit answer');
        peer.badFrames = 0;
        if (frame.header.kind === 'exact-stats') this.emit('exact-stats', peer.siteId, frame.header, tensors);
        else this.emit('exact-product', peer.siteId, frame.header, tensors);
        return;
      }
      if (isBinary) {
        // Attacker-controlled bytes: sizes and header checked before any tensor is built.
        const { header, weights } = decodeUpdateFrame(rawBytes(data));
        if (header.siteId !== peer.siteId) {
          throw new FedrxError('E_IDENTITY_MISMATCH', `update claims site ${header.siteId} on the socket of site ${peer.siteId}`);
        }
        this.checkSigned(peer.siteId, peer.publicKey, 'update', updateBody(header), header.signature, 'update');
        peer.badFrames = 0;
        this.emit('update', peer.siteId, header, weights);
        return;
      }
      // The frame header was held to the largest text this state allows; control messages are smaller.
      const msg = parseAgentMessage(rawText(data), (type) => (type === 'stats-report' ? Infinity : this.caps.controlBytes));
      peer.badFrames = 0;
      switch (msg.type) {
        case 'eval-result':
          this.emit('eval', peer.siteId, msg);
          return;
        case 'task-error':
          this.emit('task-error', peer.siteId, msg);
          return;
        case 'stats-report': {
          const body = statsBody({ runId: msg.runId, siteId: peer.siteId, statsHash: hashStats(msg.stats), rows: msg.stats.rows });
          this.checkSigned(peer.siteId, peer.publicKey, 'stats', body, msg.signature, 'statistics report');
          this.emit('stats', peer.siteId, msg);
          return;
        }
        case 'endorsement':
          this.onEndorsement(peer, msg);
          return;
        case 'dispute':
          this.onDispute(peer, msg);
          return;
        case 'hello':
          throw new FedrxError('E_BAD_MESSAGE', 'hello was already received on this socket');
      }
    } catch (e) {
      const code = isFedrxError(e) ? e.code : 'E_INTERNAL';
      const message = isFedrxError(e) ? e.message : 'frame could not be processed';
      this.opts.log(`dropped frame from site ${peer.siteId}: ${code} ${message}`);
      this.sendError(peer.siteId, code, message);
      if (++peer.badFrames >= MAX_BAD_FRAMES) peer.ws.close(CLOSE_REFUSED, 'too many invalid frames');
    }
  }

  private onEndorsement(peer: Peer, msg: Endorsement): void {
    if (!this.opts.endorsements.accept(peer.siteId, msg, peer.publicKey)) return;
    const status = this.opts.endorsements.status(this.opts.store.ledger.get(msg.index)!);
    if (status.endorsed && status.endorsedBy.length === status.required) {
      this.opts.log(`ledger entry #${msg.index} endorsed by ${status.endorsedBy.length} of ${status.participants} participants (${status.endorsedBy.join(', ')})`);
    }
  }

  /**
   * A dispute of one entry comes from a participant of it; a dispute of the whole chain (the
   * site's replica contradicts it, maybe past our last entry) from any admitted site. Either way
   * a site files at most `disputesPerHour`, however often it reconnects.
   */
  private onDispute(peer: Peer, msg: Dispute): void {
    if (msg.code !== 'E_REPLICA_DIVERGED') {
      const entry = this.opts.store.ledger.get(msg.index);
      if (entry === null) throw new FedrxError('E_NOT_FOUND', `no ledger entry ${msg.index} to dispute; not recorded`);
      if (!entry.participants.some((p) => p.siteId === peer.siteId)) {
        throw new FedrxError('E_NOT_PARTICIPANT', `site ${peer.siteId} is not a participant of entry ${msg.index} and may not dispute it; not recorded`);
      }
    }
    if (!this.disputes.take(peer.siteId)) {
      throw new FedrxError('E_RATE_LIMITED', `site ${peer.siteId} filed ${this.opts.limits.disputesPerHour} disputes this hour; not recorded`);
    }
    this.opts.store.endorsements.addDispute({ siteId: peer.siteId, entryIndex: msg.index, code: msg.code, reason: msg.reason });
    this.opts.log(`!!! site ${peer.siteId} disputes ledger entry #${msg.index}: ${msg.code} ${msg.reason}`);
  }
}

function rawBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function rawText(data: RawData): string {
  return rawBytes(data).toString('utf8');
}
