// The agents' WebSocket endpoint. It moves and authenticates frames and decides nothing: a socket
// proves which site it speaks for (handshake.ts), each frame is read and its signature checked
// (site-frames.ts), and the message goes to whoever handles it: answers to the run engine's open
// phase, endorsements and disputes to the trust desk. A refusal comes back as data and is sent to
// the site as a coded error.

import type { IncomingMessage, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { FedrxError, isFedrxError, type ErrorCode } from '../../shared/errors.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import { signHead } from '../../shared/ledger-head.js';
import type { KeyPair } from '../../shared/signing.js';
import { AGENT_PATH, errorMessage, parseAgentMessage, PROTOCOL_VERSION, type Hello, type Welcome } from '../../shared/wire.js';
import type { AnswerSink } from '../phases/phase-desk.js';
import { answerRef } from '../phases/phase.js';
import type { EndorsementDesk } from '../trust/endorsement-desk.js';
import type { ConnectionLimiter, NetLimits } from './connection-limits.js';
import { DEFAULT_CONTROL_FRAME_BYTES, DEFAULT_HELLO_FRAME_BYTES, frameCap, type FrameCapOptions, type RunFrameLimits } from './frame-caps.js';
import { capIncomingFrames } from './frame-guard.js';
import { Handshakes, type SiteDirectory } from './handshake.js';
import { Heartbeat } from './heartbeat.js';
import { RateLimiter } from '../trust/rate-limit.js';
import { replicaSync, type LedgerReader } from './replica-sync.js';
import { readSiteFrame } from './site-frames.js';
import { UpdateStreamReceiver } from './update-stream.js';

export interface GatewayOptions {
  sites: SiteDirectory;
  ledger: LedgerReader;
  /** The coordinator's ledger key: its public half goes out in every challenge. */
  signer: KeyPair;
  /** The run engine's door: the sites' answers, task errors and disconnections go there. */
  answers: AnswerSink;
  /** Endorsements, disputes, and the endorsements to ask a site for after its welcome. */
  trust: EndorsementDesk;
  log: (line: string) => void;
  /** No frame is ever larger; the caps below and the open run's limits are lower. */
  maxFrameBytes: number;
  /** Any frame before hello (default 4 KB). */
  helloFrameBytes?: number;
  /** Control messages, and binary frames while no run is open (default 64 KB). */
  controlFrameBytes?: number;
  /** Pending hellos, failed hellos per address, and the hello timeout. */
  limits: Pick<NetLimits, 'maxPendingHellos' | 'failedHellosPerMinute' | 'helloTimeoutMs'>;
  /** Told when a connection's site is admitted, so that it stops counting against its address. */
  connections?: ConnectionLimiter;
  /** How long a challenge nonce may be answered; a used nonce is remembered twice as long. */
  nonceTtlMs?: number;
  /** Heartbeat: a ping this often; a site that has not answered the previous one is disconnected. */
  heartbeatMs?: number;
  /** A chunked update with no chunk for this long is refused (E_STREAM_DEADLINE); default 60 s. */
  streamIdleMs?: number;
}

export const DEFAULT_STREAM_IDLE_MS = 60_000;

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
  /** The site's chunked updates in flight. */
  streams: UpdateStreamReceiver;
}

export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly peers = new Map<string, Peer>();
  private readonly heartbeat: Heartbeat;
  private readonly handshakes: Handshakes;
  /** Why the gateway itself closed a socket, for the disconnect event. */
  private readonly closedBecause = new WeakMap<WebSocket, string>();
  /** Sockets whose hello proved their site. */
  private readonly admitted = new WeakSet<WebSocket>();
  private readonly caps: FrameCapOptions;
  private runLimits: RunFrameLimits | null = null;
  /** Upgraded sockets that have not said hello yet. */
  private pendingHellos = 0;
  /** Refused handshakes per client address: past the limit, its upgrades are refused outright. */
  private readonly failedHellos: RateLimiter;

  constructor(server: Server | HttpsServer, private readonly opts: GatewayOptions) {
    this.caps = {
      helloBytes: opts.helloFrameBytes ?? DEFAULT_HELLO_FRAME_BYTES,
      controlBytes: opts.controlFrameBytes ?? DEFAULT_CONTROL_FRAME_BYTES,
      maxBytes: opts.maxFrameBytes,
    };
    this.failedHellos = new RateLimiter({ limit: opts.limits.failedHellosPerMinute, windowMs: 60_000 });
    this.handshakes = new Handshakes(opts.sites, opts.signer, opts.nonceTtlMs ?? 30_000);
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
    this.heartbeat = new Heartbeat(this.wss, opts.heartbeatMs ?? 15_000, (ws, why) => {
      this.closedBecause.set(ws, why);
      ws.terminate();
    });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
  }

  /** `pingMs`: round trip of the site's last answered heartbeat, null before the first. */
  connectedSites(): { siteId: string; connectedAt: string; backend: string | undefined; pingMs: number | null }[] {
    return [...this.peers.values()].map((p) => ({ siteId: p.siteId, connectedAt: p.connectedAt, backend: p.backend, pingMs: this.heartbeat.pingMs(p.ws) }));
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
    this.heartbeat.stop();
    for (const ws of this.wss.clients) ws.close(1001, 'coordinator shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private sendError(siteId: string, code: ErrorCode, message: string, ref?: { runId: string; round: number }): void {
    void this.send(siteId, JSON.stringify(errorMessage(code, message, ref)));
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
    const challenge = this.handshakes.issue(ws);
    ws.once('close', () => {
      clearTimeout(timer);
      settle();
      this.handshakes.forget(challenge.nonce);
    });
    ws.send(JSON.stringify(challenge));
    // Attacker-controlled until hello has proved, by signature over our nonce, which site it is.
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      let hello: Hello;
      let publicKey: string;
      try {
        if (isBinary) throw new FedrxError('E_NOT_HELLO', 'the first message must be a hello text frame');
        const msg = parseAgentMessage(rawBytes(data).toString('utf8'));
        if (msg.type !== 'hello') throw new FedrxError('E_NOT_HELLO', `the first message must be hello, got ${msg.type}`);
        hello = msg;
        publicKey = this.handshakes.check(ws, hello);
      } catch (e) {
        refuse(isFedrxError(e) ? e.code : 'E_BAD_MESSAGE', (e as Error).message);
        return;
      }
      settle();
      this.opts.connections?.admit(req.socket);
      this.admit(ws, hello, publicKey, remote);
    });
  }

  private admit(ws: WebSocket, hello: Hello, publicKey: string, remote: string): void {
    const previous = this.peers.get(hello.siteId);
    if (previous !== undefined) {
      // A reconnecting agent whose old socket has not timed out yet: the newest connection wins.
      this.peers.delete(hello.siteId);
      previous.ws.close(CLOSE_REPLACED, 'replaced by a newer connection');
    }
    const streams = new UpdateStreamReceiver({
      deliver: (header, part) => this.opts.answers.deliver(hello.siteId, { kind: 'update-stream', header, part }),
      onDeadline: (header, code, reason) => {
        this.opts.log(`refused the update stream of ${hello.siteId} for run ${header.runId} round ${header.round}: ${code} ${reason}`);
        this.sendError(hello.siteId, code, reason, { runId: header.runId, round: header.round });
      },
      idleMs: this.opts.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS,
    });
    const peer: Peer = { siteId: hello.siteId, publicKey, ws, connectedAt: new Date().toISOString(), backend: hello.backend, badFrames: 0, streams };
    this.peers.set(hello.siteId, peer);
    this.admitted.add(ws);
    this.opts.sites.touch(hello.siteId);
    const { length, headHash } = this.opts.ledger.head();
    const welcome: Welcome = { type: 'welcome', v: PROTOCOL_VERSION, siteId: hello.siteId, ledger: { length, headHash }, head: signHead({ length, headHash }, this.opts.signer) };
    ws.send(JSON.stringify(welcome));
    const sync = replicaSync(this.opts.ledger, hello.replica);
    if ('refusal' in sync) this.sendError(peer.siteId, sync.refusal.code, sync.refusal.message);
    else for (const entries of sync.batches) void this.send(peer.siteId, JSON.stringify({ type: 'ledger-entries', v: PROTOCOL_VERSION, entries }));
    // After the entries the site lacks, so it holds every entry it is asked to endorse.
    const lacking = this.opts.trust.afterWelcome(hello.siteId);
    if (lacking !== null) void this.send(hello.siteId, JSON.stringify(lacking));
    this.opts.log(`site ${hello.siteId} connected from ${remote} (backend ${hello.backend ?? 'unknown'})`);
    ws.on('message', (data, isBinary) => this.onMessage(peer, rawBytes(data), isBinary));
    ws.on('close', (code) => {
      const why = this.closedBecause.get(ws) ?? `connection closed (code ${code})`;
      // Also when a newer connection replaced this one: its stream can never finish.
      peer.streams.close(why);
      if (this.peers.get(peer.siteId) !== peer) return;
      this.peers.delete(peer.siteId);
      this.opts.log(`site ${peer.siteId} disconnected: ${why}`);
      this.opts.answers.disconnected(peer.siteId, why);
    });
  }

  private onMessage(peer: Peer, data: Buffer, isBinary: boolean): void {
    try {
      // A site revoked or re-keyed while connected (e.g. by `fedrx site revoke` on the database,
      // which cannot reach this process) stops here.
      const current = this.opts.sites.get(peer.siteId);
      if (current?.revokedAt !== null) {
        this.disconnect(peer.siteId, 'E_SITE_REVOKED', `site ${peer.siteId} was revoked`);
        return;
      }
      if (current.publicKey !== peer.publicKey) {
        this.disconnect(peer.siteId, 'E_SITE_REKEYED', `site ${peer.siteId} has a new public key: reconnect and sign with it`);
        return;
      }
      const frame = readSiteFrame(data, isBinary, peer, this.opts.sites, this.caps.controlBytes, peer.streams.maxChunkValues);
      peer.badFrames = 0;
      switch (frame.to) {
        case 'stream':
        case 'chunk': {
          const verdict = frame.to === 'stream' ? peer.streams.begin(frame.header) : peer.streams.chunk(frame.header, frame.values);
          if (verdict === null || verdict.accepted) return;
          const ref = { runId: frame.header.runId, round: frame.header.round };
          this.opts.log(`refused the update stream of ${peer.siteId} for run ${ref.runId} round ${ref.round}: ${verdict.code} ${verdict.reason}`);
          this.sendError(peer.siteId, verdict.code, verdict.reason, ref);
          return;
        }
        case 'phase': {
          const verdict = this.opts.answers.deliver(peer.siteId, frame.msg);
          if (verdict.accepted) return;
          const ref = answerRef(frame.msg);
          this.opts.log(`refused ${frame.msg.kind} from ${peer.siteId} for run ${ref.runId} round ${ref.round}: ${verdict.code} ${verdict.reason}`);
          this.sendError(peer.siteId, verdict.code, verdict.reason, ref);
          return;
        }
        case 'task-error':
          this.opts.log(`site ${peer.siteId} could not do run ${frame.msg.runId} round ${frame.msg.round}: ${frame.msg.code} ${frame.msg.message}`);
          this.opts.answers.taskError(peer.siteId, frame.msg);
          return;
        case 'endorsement':
          this.opts.trust.endorsement(peer.siteId, peer.publicKey, frame.msg);
          return;
        case 'dispute':
          this.opts.trust.dispute(peer.siteId, frame.msg);
          return;
      }
    } catch (e) {
      const code = isFedrxError(e) ? e.code : 'E_INTERNAL';
      const message = isFedrxError(e) ? e.message : 'frame could not be processed';
      this.opts.log(`${code === 'E_IDENTITY_MISMATCH' ? '!!! ' : ''}dropped frame from site ${peer.siteId}: ${code} ${message}`);
      this.sendError(peer.siteId, code, message);
      if (++peer.badFrames >= MAX_BAD_FRAMES) peer.ws.close(CLOSE_REFUSED, 'too many invalid frames');
    }
  }
}

function rawBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
