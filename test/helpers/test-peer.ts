// A protocol-level site peer for integration tests: speaks the real wire format to a real
// coordinator (challenge, signed hello, signed frames), so tests can send exactly the good and
// bad frames they need.

import WebSocket from 'ws';
import { AGENT_PATH, PROTOCOL_VERSION, decodeTaskFrame, type Challenge, type TaskHeader } from '../../shared/wire.js';
import { GENESIS_PREV_HASH } from '../../shared/ledger.js';
import { generateKeyPair, helloBody, sign, statsBody, updateBody, type KeyPair } from '../../shared/signing.js';
import { hashStats, type FeatureStats } from '../../shared/feature-stats.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { updateStream, type UpdateStream } from '../../shared/update-chunks.js';
import type { Store } from '../../coordinator/store/store.js';

export interface Received {
  json: Record<string, unknown>[];
  tasks: { header: TaskHeader; weights: Weights }[];
}

export interface TestSite {
  siteId: string;
  keys: KeyPair;
}

/** Makes a key pair per site id and registers the public keys with the coordinator's store. */
export function registerTestSites(store: Store, ids: readonly string[]): Record<string, TestSite> {
  const out: Record<string, TestSite> = {};
  for (const siteId of ids) {
    const keys = generateKeyPair();
    store.sites.register(siteId, keys.publicKey);
    out[siteId] = { siteId, keys };
  }
  return out;
}

/** An update frame as an agent would send it, signed by `signer` (the site itself unless a test says otherwise). */
export function signedUpdateFrame(
  site: TestSite,
  fields: { runId: string; round: number; baseModelHash: string; updateHash: string; numExamples: number; trainLoss?: number },
  weights: Weights,
  over: Record<string, unknown> = {},
  signer: KeyPair = site.keys,
): Buffer {
  const header = { v: PROTOCOL_VERSION, kind: 'update', siteId: site.siteId, trainLoss: 0.5, ...fields, ...over } as Record<string, unknown> & Parameters<typeof updateBody>[0];
  const signature = 'signature' in over ? over.signature : sign('update', updateBody(header), signer.secretKey);
  return encodeFrame({ ...header, signature }, weights);
}

/** An update as a chunk stream (shared/update-chunks.ts), signed by the site as an agent would, in chunks of `chunkValues` values. */
export function signedUpdateStream(
  site: TestSite,
  fields: { runId: string; round: number; baseModelHash: string; updateHash: string; numExamples: number },
  weights: Weights,
  chunkValues: number,
): UpdateStream {
  const meta = { v: PROTOCOL_VERSION as 1, kind: 'update' as const, siteId: site.siteId, trainLoss: 0.5, ...fields };
  return updateStream({ ...meta, signature: sign('update', updateBody(meta), site.keys.secretKey) }, weights, site.keys, chunkValues);
}

export function signedStatsReport(site: TestSite, runId: string, stats: FeatureStats): string {
  const signature = sign('stats', statsBody({ runId, siteId: site.siteId, statsHash: hashStats(stats), rows: stats.rows }), site.keys.secretKey);
  return JSON.stringify({ type: 'stats-report', v: PROTOCOL_VERSION, runId, stats, signature });
}

/** `maxPayload`: the largest frame the peer takes (ws's default 100 MiB otherwise); `dropWeights`: keep tasks' headers only (large models). */
export interface PeerOptions {
  maxPayload?: number;
  dropWeights?: boolean;
}

export class TestPeer {
  readonly received: Received = { json: [], tasks: [] };
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(
    readonly ws: WebSocket,
    opts: PeerOptions,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        // The header alone, its data never read: a task of a large model is not copied.
        const header = () => JSON.parse(data.subarray(8, 8 + data.readUInt32LE(4)).toString('utf8')) as TaskHeader;
        this.received.tasks.push(opts.dropWeights === true ? { header: header(), weights: [] } : decodeTaskFrame(data));
      } else this.received.json.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Opens a socket and waits for the coordinator's challenge; sends nothing. */
  static async connect(baseUrl: string, opts: PeerOptions = {}): Promise<TestPeer> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + AGENT_PATH, opts.maxPayload === undefined ? {} : { maxPayload: opts.maxPayload });
    const peer = new TestPeer(ws, opts);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await peer.until((r) => r.json.find((m) => m.type === 'challenge'));
    return peer;
  }

  /** Connects as `site` with a correctly signed hello and waits for the welcome. */
  static async admit(baseUrl: string, site: TestSite, opts: PeerOptions = {}): Promise<TestPeer> {
    const p = await TestPeer.connect(baseUrl, opts);
    p.send(JSON.stringify(p.hello(site)));
    await p.until((r) => r.json.find((m) => m.type === 'welcome'));
    return p;
  }

  get challenge(): Challenge {
    return this.received.json.find((m) => m.type === 'challenge') as unknown as Challenge;
  }

  /** A hello answering this socket's challenge as `site`, signed by `signer` (default: the site's key). */
  hello(site: TestSite, opts: { signer?: KeyPair; nonce?: string } = {}): Record<string, unknown> {
    const nonce = opts.nonce ?? this.challenge.nonce;
    const signature = sign('hello', helloBody(site.siteId, nonce, this.challenge.coordinatorKey), (opts.signer ?? site.keys).secretKey);
    return { type: 'hello', v: PROTOCOL_VERSION, siteId: site.siteId, nonce, signature, replica: { length: 0, headHash: GENESIS_PREV_HASH } };
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

  /** Stops reading the socket, as a blocked event loop would: no messages, and no pong to a ping. */
  freeze(): void {
    this.ws.pause();
  }

  close(): void {
    this.ws.close();
  }
}
