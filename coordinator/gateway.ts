// The agents' WebSocket endpoint: authenticates each socket as one site, validates every frame
// at the boundary, and hands well-formed messages to the round runner. It moves and checks
// bytes; it never decides anything about rounds.

import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { FedrxError, isFedrxError, type ErrorCode } from '../shared/errors.js';
import type { LedgerEntry } from '../shared/ledger.js';
import {
  AGENT_PATH,
  decodeUpdateFrame,
  errorMessage,
  parseAgentMessage,
  PROTOCOL_VERSION,
  type EvalResult,
  type Hello,
  type StatsReport,
  type TaskError,
  type UpdateHeader,
} from '../shared/wire.js';
import type { Weights } from '../shared/tensors.js';
import type { Store } from './store.js';

export interface GatewayOptions {
  store: Store;
  log: (line: string) => void;
  maxFrameBytes: number;
  helloTimeoutMs?: number;
  heartbeatMs?: number;
}

export interface GatewayEvents {
  update: [siteId: string, header: UpdateHeader, weights: Weights];
  eval: [siteId: string, msg: EvalResult];
  'task-error': [siteId: string, msg: TaskError];
  stats: [siteId: string, msg: StatsReport];
  connected: [siteId: string];
  disconnected: [siteId: string];
}

const LEDGER_SYNC_CHUNK = 256;
/** Close codes in the private range; the reason carries the error code. */
const CLOSE_REFUSED = 4001;
const CLOSE_REPLACED = 4002;
const MAX_BAD_FRAMES = 100;

interface Peer {
  siteId: string;
  ws: WebSocket;
  connectedAt: string;
  backend: string | undefined;
  badFrames: number;
}

export class Gateway extends EventEmitter<GatewayEvents> {
  private readonly wss: WebSocketServer;
  private readonly peers = new Map<string, Peer>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(server: Server | HttpsServer, private readonly opts: GatewayOptions) {
    super();
    this.wss = new WebSocketServer({ server, path: AGENT_PATH, maxPayload: opts.maxFrameBytes });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
    const alive = new WeakSet<WebSocket>();
    this.heartbeat = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (!alive.has(ws)) {
          ws.terminate();
          continue;
        }
        alive.delete(ws);
        ws.ping();
      }
    }, opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.wss.on('connection', (ws) => {
      alive.add(ws);
      ws.on('pong', () => alive.add(ws));
    });
  }

  connectedSites(): { siteId: string; connectedAt: string; backend: string | undefined }[] {
    return [...this.peers.values()].map((p) => ({ siteId: p.siteId, connectedAt: p.connectedAt, backend: p.backend }));
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

  sendError(siteId: string, code: ErrorCode | string, message: string, ref?: { runId: string; round: number }): void {
    void this.send(siteId, JSON.stringify(errorMessage(code, message, ref)));
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

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const refuse = (code: ErrorCode, message: string): void => {
      this.opts.log(`refused agent connection from ${remote}: ${code} ${message}`);
      ws.send(JSON.stringify(errorMessage(code, message)), () => ws.close(CLOSE_REFUSED, code));
    };
    const timer = setTimeout(() => refuse('E_NOT_HELLO', 'no hello within the time allowed'), this.opts.helloTimeoutMs ?? 10_000);
    ws.on('error', (err) => this.opts.log(`socket error from ${remote}: ${err.message}`));
    // Attacker-controlled until hello has named a registered site with its token.
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      let hello: Hello;
      try {
        if (isBinary) throw new FedrxError('E_NOT_HELLO', 'the first message must be a hello text frame');
        const msg = parseAgentMessage(rawText(data));
        if (msg.type !== 'hello') throw new FedrxError('E_NOT_HELLO', `the first message must be hello, got ${msg.type}`);
        hello = msg;
      } catch (e) {
        refuse(isFedrxError(e) ? e.code : 'E_BAD_MESSAGE', (e as Error).message);
        return;
      }
      if (!this.opts.store.siteExists(hello.siteId)) return refuse('E_UNKNOWN_SITE', `site ${hello.siteId} is not registered`);
      if (!this.opts.store.checkSiteToken(hello.siteId, hello.token)) return refuse('E_BAD_TOKEN', `wrong token for site ${hello.siteId}`);
      this.admit(ws, hello, remote);
    });
  }

  private admit(ws: WebSocket, hello: Hello, remote: string): void {
    const previous = this.peers.get(hello.siteId);
    if (previous !== undefined) {
      // A reconnecting agent whose old socket has not timed out yet: the newest connection wins.
      this.peers.delete(hello.siteId);
      previous.ws.close(CLOSE_REPLACED, 'replaced by a newer connection');
    }
    const peer: Peer = { siteId: hello.siteId, ws, connectedAt: new Date().toISOString(), backend: hello.backend, badFrames: 0 };
    this.peers.set(hello.siteId, peer);
    this.opts.store.touchSite(hello.siteId);
    const { length, headHash } = this.opts.store.ledger.head();
    ws.send(JSON.stringify({ type: 'welcome', v: PROTOCOL_VERSION, siteId: hello.siteId, ledger: { length, headHash } }));
    this.syncReplica(peer, hello.replica);
    this.opts.log(`site ${hello.siteId} connected from ${remote} (backend ${hello.backend ?? 'unknown'})`);
    ws.on('message', (data, isBinary) => this.onMessage(peer, data, isBinary));
    ws.on('close', () => {
      if (this.peers.get(peer.siteId) === peer) {
        this.peers.delete(peer.siteId);
        this.opts.log(`site ${peer.siteId} disconnected`);
        this.emit('disconnected', peer.siteId);
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
      if (isBinary) {
        // Attacker-controlled bytes: sizes and header checked before any tensor is built.
        const { header, weights } = decodeUpdateFrame(rawBytes(data));
        if (header.siteId !== peer.siteId) {
          throw new FedrxError('E_BAD_MESSAGE', `update claims site ${header.siteId} on the socket of site ${peer.siteId}`);
        }
        this.emit('update', peer.siteId, header, weights);
        peer.badFrames = 0;
        return;
      }
      const msg = parseAgentMessage(rawText(data));
      peer.badFrames = 0;
      if (msg.type === 'eval-result') this.emit('eval', peer.siteId, msg);
      else if (msg.type === 'task-error') this.emit('task-error', peer.siteId, msg);
      else if (msg.type === 'stats-report') this.emit('stats', peer.siteId, msg);
      else throw new FedrxError('E_BAD_MESSAGE', 'hello was already received on this socket');
    } catch (e) {
      const code = isFedrxError(e) ? e.code : 'E_INTERNAL';
      const message = isFedrxError(e) ? e.message : 'frame could not be processed';
      this.opts.log(`dropped frame from site ${peer.siteId}: ${code} ${message}`);
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

function rawText(data: RawData): string {
  return rawBytes(data).toString('utf8');
}
