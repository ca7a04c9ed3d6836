// Round benchmark: aggregation, transfer and hashing of a ~1M-parameter float32 model.
//   node bin/run-ts.mjs bench/round.ts          (npm run bench:round)
// Every figure is printed next to a baseline measured in the same run and as a ratio to it; no
// figure is compared with a fixed threshold. Medians of 7 timed repetitions after 2 warm-ups, a
// candidate interleaved with its baseline. Transfer clients and servers share this process (one
// event loop), for ws and raw TCP alike. Writes the figures to bench-out/round.json.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { sha256 } from '@noble/hashes/sha2.js';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { createStrategy } from '../coordinator/strategies/registry.js';
import type { RoundContext, SiteUpdate } from '../coordinator/strategies/types.js';
import { hashWeights } from '../shared/model-hash.js';
import { encodeFrame } from '../shared/tensor-codec.js';
import { sizeOf, type TensorSpec, type Weights } from '../shared/tensors.js';

// ---- set-up ---------------------------------------------------------------------------------

const SPECS: TensorSpec[] = [
  { name: 'dense0/kernel', shape: [1000, 990] },
  { name: 'dense0/bias', shape: [990] },
  { name: 'dense1/kernel', shape: [990, 10] },
  { name: 'dense1/bias', shape: [10] },
];
const PARAMS = SPECS.reduce((n, s) => n + sizeOf(s.shape), 0); // 1,000,900
const MODEL_BYTES = PARAMS * 4;
const SITE_COUNTS = [10, 50] as const;
const REPS = 7;
const WARMUP = 2;
const K_FRAMES = 20;
const MB = 1e6;
const HASH_A = 'a'.repeat(64);
const RUN_ID = 'bench-run';
const fedAvg = createStrategy('fedavg', {});

v8.setFlagsFromString('--expose-gc');
const gcFn: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
const gc = (): void => {
  if (typeof gcFn === 'function') (gcFn as () => void)();
};

/** Cheap deterministic fill (xorshift32), values in [-1, 1). */
function fill(data: Float32Array, seed: number): void {
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    data[i] = s / 2147483648 - 1;
  }
}

/** A model whose tensors are views of one contiguous buffer (so "the same bytes" is one buffer). */
function makeModel(seed: number): { weights: Weights; flat: Float32Array } {
  const flat = new Float32Array(PARAMS);
  fill(flat, seed);
  let at = 0;
  const weights = SPECS.map((s) => {
    const n = sizeOf(s.shape);
    const t = { name: s.name, shape: [...s.shape], data: flat.subarray(at, at + n) };
    at += n;
    return t;
  });
  return { weights, flat };
}

function siteIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `site-${String(i).padStart(3, '0')}`);
}

function roundContext(global: Weights, sites: readonly string[]): RoundContext {
  return { runId: RUN_ID, round: 1, globalWeights: global, globalHash: HASH_A, selected: new Set(sites) };
}

function siteUpdate(siteId: string, i: number, weights: Weights): SiteUpdate {
  return { siteId, runId: RUN_ID, round: 1, baseModelHash: HASH_A, numExamples: 100 + i, updateHash: HASH_A, weights };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

type Once = () => number | Promise<number>;
interface Timing {
  median: number;
  samples: number[];
}

/**
 * Runs each function (which returns the seconds it timed) WARMUP times, then `reps` rounds in
 * which every function runs once, in an order rotated each round: a candidate and its baseline are
 * interleaved so both see the same background load. Median per function.
 */
async function timedTogether<K extends string>(fns: Record<K, Once>, reps = REPS): Promise<Record<K, Timing>> {
  const keys = Object.keys(fns) as K[];
  for (const k of keys) for (let i = 0; i < WARMUP; i++) await fns[k]();
  const samples = new Map<K, number[]>(keys.map((k) => [k, []]));
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < keys.length; j++) {
      const k = keys[(r + j) % keys.length]!;
      samples.get(k)!.push(await fns[k]());
    }
  }
  const out = {} as Record<K, Timing>;
  for (const k of keys) {
    const xs = samples.get(k)!;
    out[k] = { median: median(xs), samples: xs };
  }
  return out;
}

const secondsSince = (t0: number): number => (performance.now() - t0) / 1000;

function bufferutilStatus(): string {
  try {
    const mod: unknown = createRequire(import.meta.url)('bufferutil');
    const mask = typeof mod === 'object' && mod !== null ? (mod as { mask?: unknown }).mask : undefined;
    if (typeof mask !== 'function') return 'loads, but has no mask()';
    return Function.prototype.toString.call(mask).includes('[native code]') ? 'loads (native addon)' : 'loads (JS fallback)';
  } catch (e) {
    return `does not load (${(e as Error).message.split('\n')[0] ?? ''})`;
  }
}

// ---- 1. aggregation ---------------------------------------------------------------------------

interface AggFigure {
  sites: number;
  fedavgMparamPerS: number;
  setBaselineMparamPerS: number;
  ratio: number;
  fedavgSeconds: number[];
  setSeconds: number[];
}

interface MemFigure {
  sites: number;
  /** 'natural': V8 collects when it likes; 'forced-gc': gc() after each accept (the live set). */
  gcMode: 'natural' | 'forced-gc';
  peakRssGrowthBytes: number;
  peakArrayBufferGrowthBytes: number;
  modelBytes: number;
  rssGrowthInModels: number;
  arrayBufferGrowthInModels: number;
  allUpdatesAliveBytes: number;
}

/**
 * Peak memory growth while folding `n` updates, each generated inside the loop so only one is
 * referenced at a time. Runs in a fresh child process (see main) so earlier phases do not skew it.
 */
function aggregationMemory(n: number, gcMode: MemFigure['gcMode']): MemFigure {
  const global = makeModel(1).weights;
  const sites = siteIds(n);
  gc();
  const rss0 = process.memoryUsage.rss();
  const ab0 = process.memoryUsage().arrayBuffers;
  let rssPeak = rss0;
  let abPeak = ab0;
  const sample = (): void => {
    const r = process.memoryUsage.rss();
    if (r > rssPeak) rssPeak = r;
    const a = process.memoryUsage().arrayBuffers;
    if (a > abPeak) abPeak = a;
  };
  const agg = fedAvg.beginRound(roundContext(global, sites));
  sample();
  for (let i = 0; i < n; i++) {
    const { weights } = makeModel(1000 + i); // lazily generated; the previous update is unreachable
    sample();
    const verdict = agg.accept(siteUpdate(sites[i]!, i, weights));
    if (!verdict.accepted) throw new Error(`bench update refused: ${verdict.reason}`);
    sample();
    if (gcMode === 'forced-gc') gc();
  }
  const result = agg.finalize();
  sample();
  if (result === null || result.contributors !== n) throw new Error('aggregation lost updates');
  return {
    sites: n,
    gcMode,
    peakRssGrowthBytes: rssPeak - rss0,
    peakArrayBufferGrowthBytes: abPeak - ab0,
    modelBytes: MODEL_BYTES,
    rssGrowthInModels: (rssPeak - rss0) / MODEL_BYTES,
    arrayBufferGrowthInModels: (abPeak - ab0) / MODEL_BYTES,
    allUpdatesAliveBytes: n * MODEL_BYTES,
  };
}

const MEM_CHILD_FLAG = '--memory-child';

/** Runs aggregationMemory in a fresh `node bin/run-ts.mjs bench/round.ts --memory-child n mode`. */
function aggregationMemoryInChild(n: number, gcMode: MemFigure['gcMode']): MemFigure {
  const runTs = fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [runTs, self, MEM_CHILD_FLAG, String(n), gcMode], { encoding: 'utf8' });
  const last = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as MemFigure;
}

/**
 * A round of `n` sites, pre-generated: a pool of 4 distinct models shared by the n site updates,
 * so generation is outside the timing and the pool stays small; FedAvg still validates and folds
 * every update.
 */
function benchRound(n: number): { global: Weights; updates: SiteUpdate[]; ctx: RoundContext } {
  const global = makeModel(1).weights;
  const pool = [2, 3, 4, 5].map((s) => makeModel(s).weights);
  const sites = siteIds(n);
  return { global, updates: sites.map((id, i) => siteUpdate(id, i, pool[i % pool.length]!)), ctx: roundContext(global, sites) };
}

async function aggregationThroughput(n: number): Promise<AggFigure> {
  const { global, updates, ctx } = benchRound(n);
  let sink = 0;

  const dst = global.map((t) => new Float32Array(t.data.length));
  const { fed, set } = await timedTogether({
    fed: () => {
      const t0 = performance.now();
      const agg = fedAvg.beginRound(ctx);
      for (const u of updates) {
        const v = agg.accept(u);
        if (!v.accepted) throw new Error(`bench update refused: ${v.reason}`);
      }
      const r = agg.finalize();
      const s = secondsSince(t0);
      sink += r?.weights[0]?.data[0] ?? 0;
      return s;
    },
    set: () => {
      const t0 = performance.now();
      for (const u of updates) u.weights.forEach((t, k) => dst[k]!.set(t.data));
      const s = secondsSince(t0);
      sink += dst[0]![0]!;
      return s;
    },
  });
  if (Number.isNaN(sink)) console.log('(sink)');

  const mps = (sec: number): number => (PARAMS * n) / sec / 1e6;
  return {
    sites: n,
    fedavgMparamPerS: mps(fed.median),
    setBaselineMparamPerS: mps(set.median),
    ratio: mps(fed.median) / mps(set.median),
    fedavgSeconds: fed.samples,
    setSeconds: set.samples,
  };
}

interface FoldFigure {
  sites: number;
  fedavgMparamPerS: number;
  naiveMparamPerS: number;
  ratio: number;
  fedavgSeconds: number[];
  naiveSeconds: number[];
}

/** The baseline of the fold: acc[i] += w·x[i] into a float64 sum, no check, nothing else. */
function naiveFold(acc: Float64Array, w: number, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) acc[i]! += w * x[i]!;
}

/**
 * FedAvg's accept() on its own (the checks, the fold and the finiteness check) against naiveFold
 * over the same updates' bytes. Each repetition starts both from new zeroed sums made before the
 * clock starts (the aggregator, a fresh accumulator), as a round does: the first writes into new
 * memory cost page faults on both sides.
 */
async function foldThroughput(n: number): Promise<FoldFigure> {
  const { global, updates, ctx } = benchRound(n);
  let sink = 0;
  const { fed, naive } = await timedTogether({
    fed: () => {
      const agg = fedAvg.beginRound(ctx);
      const t0 = performance.now();
      for (const u of updates) {
        const v = agg.accept(u);
        if (!v.accepted) throw new Error(`bench update refused: ${v.reason}`);
      }
      const s = secondsSince(t0);
      sink += agg.accepted;
      return s;
    },
    naive: () => {
      const acc = global.map((t) => new Float64Array(t.data.length));
      const t0 = performance.now();
      for (const u of updates) u.weights.forEach((t, k) => naiveFold(acc[k]!, u.numExamples, t.data));
      const s = secondsSince(t0);
      sink += acc[0]![0]!;
      return s;
    },
  });
  if (Number.isNaN(sink)) console.log('(sink)');
  const mps = (sec: number): number => (PARAMS * n) / sec / 1e6;
  return { sites: n, fedavgMparamPerS: mps(fed.median), naiveMparamPerS: mps(naive.median), ratio: naive.median / fed.median, fedavgSeconds: fed.samples, naiveSeconds: naive.samples };
}

// ---- 2. transfer -------------------------------------------------------------------------------

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const rawLength = (data: RawData): number =>
  Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;

interface WsBench {
  connect(n: number): Promise<WebSocket[]>;
  close(): Promise<void>;
}

async function startWs(frameBytes: number): Promise<WsBench> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const addr = wss.address();
  if (addr === null || typeof addr === 'string') throw new Error('unexpected server address');
  wss.on('connection', (sock) => {
    sock.on('message', (data, isBinary) => {
      if (!isBinary || rawLength(data) !== frameBytes) {
        sock.close(1003, 'unexpected frame');
        return;
      }
      sock.send('ok');
    });
  });
  const clients: WebSocket[] = [];
  return {
    async connect(n) {
      const made = await Promise.all(
        Array.from(
          { length: n },
          () =>
            new Promise<WebSocket>((resolve, reject) => {
              const ws = new WebSocket(`ws://127.0.0.1:${addr.port}/`, { perMessageDeflate: false, maxPayload: 1024 });
              ws.once('open', () => resolve(ws));
              ws.once('error', reject);
            }),
        ),
      );
      clients.push(...made);
      return made;
    },
    async close() {
      for (const c of clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Starts the clock, calls `send`, and resolves with the seconds until `expected` acks have arrived
 * over all `clients` (`ackEvent` fires with what `acks` counts); a client closing fails the round.
 */
function timeAcks<C extends EventEmitter>(
  clients: readonly C[],
  expected: number,
  ackEvent: string,
  acks: (payload: Buffer) => number,
  send: () => void,
  what: string,
): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      let pending = expected;
      const cleanups: Array<() => void> = [];
      const t0 = performance.now();
      for (const c of clients) {
        const onAck = (payload: Buffer): void => {
          pending -= acks(payload);
          if (pending === 0) {
            const sec = secondsSince(t0);
            for (const off of cleanups) off();
            resolve(sec);
          }
        };
        const onClose = (): void => reject(new Error(`${what}: a connection closed during the benchmark`));
        c.on(ackEvent, onAck);
        c.on('close', onClose);
        cleanups.push(() => {
          c.off(ackEvent, onAck);
          c.off('close', onClose);
        });
      }
      send();
    }),
    30_000,
    what,
  );
}

/** Each client sends `perClient` frames back to back; resolves when every ack (one message each) is in. Seconds. */
function wsRound(clients: readonly WebSocket[], frame: Buffer, perClient: number): Promise<number> {
  return timeAcks(clients, clients.length * perClient, 'message', () => 1, () => {
    for (let k = 0; k < perClient; k++) for (const ws of clients) ws.send(frame, { binary: true });
  }, 'ws round');
}

interface NetBench {
  connect(n: number): Promise<net.Socket[]>;
  close(): Promise<void>;
}

/** Raw TCP, length-prefixed (u32 LE), each frame assembled into one Buffer then acked with 1 byte. */
async function startNet(): Promise<NetBench> {
  const ACK = Buffer.from([1]);
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    const hdr = Buffer.alloc(4);
    let hdrHave = 0;
    let body: Buffer | null = null;
    let have = 0;
    sock.on('data', (chunk: Buffer) => {
      let off = 0;
      while (off < chunk.length) {
        if (body === null) {
          const take = Math.min(4 - hdrHave, chunk.length - off);
          chunk.copy(hdr, hdrHave, off, off + take);
          hdrHave += take;
          off += take;
          if (hdrHave === 4) {
            body = Buffer.allocUnsafe(hdr.readUInt32LE(0)); // like ws, the receiver holds the frame whole
            have = 0;
            hdrHave = 0;
          }
        } else {
          const take = Math.min(body.length - have, chunk.length - off);
          chunk.copy(body, have, off, off + take);
          have += take;
          off += take;
        }
        if (body !== null && have === body.length) {
          body = null;
          sock.write(ACK);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('unexpected server address');
  const clients: net.Socket[] = [];
  return {
    async connect(n) {
      const made = await Promise.all(
        Array.from(
          { length: n },
          () =>
            new Promise<net.Socket>((resolve, reject) => {
              const s = net.connect(addr.port, '127.0.0.1', () => resolve(s));
              s.setNoDelay(true);
              s.once('error', reject);
            }),
        ),
      );
      clients.push(...made);
      return made;
    },
    async close() {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The same over raw TCP: a u32 LE length prefix per frame, acks of one byte each. Seconds. */
function netRound(clients: readonly net.Socket[], frame: Buffer, perClient: number): Promise<number> {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(frame.length, 0);
  return timeAcks(clients, clients.length * perClient, 'data', (chunk) => chunk.length, () => {
    for (let k = 0; k < perClient; k++) {
      for (const s of clients) {
        s.write(prefix);
        s.write(frame);
      }
    }
  }, 'net round');
}

interface TransferFigure {
  frameBytes: number;
  single: { frames: number; wsMBps: number; netMBps: number; ratio: number; wsSeconds: number[]; netSeconds: number[] };
  concurrent: Array<{ sites: number; wsMBps: number; netMBps: number; ratio: number }>;
}

async function transfer(): Promise<TransferFigure> {
  const model = makeModel(7).weights;
  const frame = encodeFrame(
    { v: 1, kind: 'update', runId: RUN_ID, round: 1, siteId: 'site-000', baseModelHash: HASH_A, updateHash: hashWeights(model), numExamples: 100, trainLoss: 0.5 },
    model,
  );
  const mbps = (bytes: number, sec: number): number => bytes / sec / MB;

  const wsB = await startWs(frame.length);
  const netB = await startNet();
  try {
    const [wsOne] = await wsB.connect(1);
    const [netOne] = await netB.connect(1);
    const { ws: ws1, net: net1 } = await timedTogether({
      ws: () => wsRound([wsOne!], frame, K_FRAMES),
      net: () => netRound([netOne!], frame, K_FRAMES),
    });
    const single = {
      frames: K_FRAMES,
      wsMBps: mbps(frame.length * K_FRAMES, ws1.median),
      netMBps: mbps(frame.length * K_FRAMES, net1.median),
      ratio: 0,
      wsSeconds: ws1.samples,
      netSeconds: net1.samples,
    };
    single.ratio = single.wsMBps / single.netMBps;

    const concurrent: TransferFigure['concurrent'] = [];
    for (const n of SITE_COUNTS) {
      const wsClients = await wsB.connect(n);
      const netClients = await netB.connect(n);
      const { ws: w, net: t } = await timedTogether({
        ws: () => wsRound(wsClients, frame, 1),
        net: () => netRound(netClients, frame, 1),
      });
      const wsMBps = mbps(frame.length * n, w.median);
      const netMBps = mbps(frame.length * n, t.median);
      concurrent.push({ sites: n, wsMBps, netMBps, ratio: wsMBps / netMBps });
      for (const c of wsClients) c.terminate();
      for (const c of netClients) c.destroy();
    }
    return { frameBytes: frame.length, single, concurrent };
  } finally {
    await wsB.close();
    await netB.close();
  }
}

// ---- 3. hashing --------------------------------------------------------------------------------

interface HashFigure {
  bytes: number;
  hashWeightsMBps: number;
  nodeCryptoMBps: number;
  nobleMBps: number;
  hashWeightsVsNodeCrypto: number;
  nobleVsNodeCrypto: number;
}

async function hashing(): Promise<HashFigure> {
  const { weights, flat } = makeModel(9);
  const bytes = new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength);
  let sink = '';
  const loop = (iters: number, f: () => string) => () => {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) sink = f();
    return secondsSince(t0) / iters;
  };
  const { hw, nc, nb } = await timedTogether(
    {
      hw: loop(16, () => hashWeights(weights)),
      nc: loop(16, () => createHash('sha256').update(bytes).digest('hex')),
      nb: loop(2, () => String(sha256(bytes)[0])),
    },
    7,
  );
  if (sink.length === 0) console.log('(sink)');
  const rate = (s: number): number => bytes.byteLength / s / MB;
  return {
    bytes: bytes.byteLength,
    hashWeightsMBps: rate(hw.median),
    nodeCryptoMBps: rate(nc.median),
    nobleMBps: rate(nb.median),
    hashWeightsVsNodeCrypto: rate(hw.median) / rate(nc.median),
    nobleVsNodeCrypto: rate(nb.median) / rate(nc.median),
  };
}

// ---- report ------------------------------------------------------------------------------------

function table(title: string, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const f3 = (x: number): string => x.toFixed(3);
const mib = (b: number): string => (b / MB).toFixed(1);

async function main(): Promise<void> {
  const started = performance.now();
  const bufferutil = bufferutilStatus();
  console.log(`fedrx round benchmark — node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? '?'}), ${process.platform}/${process.arch}`);
  console.log(`model: ${SPECS.map((s) => `[${s.shape.join(',')}]`).join(' + ')} = ${PARAMS.toLocaleString('en-US')} float32 params (${mib(MODEL_BYTES)} MB)`);
  console.log(`median of ${REPS} timed repetitions (interleaved with the baseline) after ${WARMUP} warm-ups; MB = 1e6 bytes; ratios are against the same-run baseline`);
  console.log(`bufferutil: ${bufferutil}; gc exposed: ${typeof gcFn === 'function'}`);

  // Memory in fresh child processes, so no other phase has raised the heap or RSS beforehand.
  const memory: MemFigure[] = [];
  for (const mode of ['natural', 'forced-gc'] as const) for (const n of SITE_COUNTS) memory.push(aggregationMemoryInChild(n, mode));
  const aggregation: AggFigure[] = [];
  for (const n of SITE_COUNTS) aggregation.push(await aggregationThroughput(n));
  const fold: FoldFigure[] = [];
  for (const n of SITE_COUNTS) fold.push(await foldThroughput(n));
  gc();
  const hash = await hashing();
  gc();
  const xfer = await transfer();

  table(
    '1. Aggregation (FedAvg beginRound → accept×N → finalize, validation included) vs Float32Array.set copying the same bytes',
    ['sites', 'fedavg Mparam/s', 'set() Mparam/s', 'ratio', 'fedavg median s'],
    aggregation.map((a) => [String(a.sites), f1(a.fedavgMparamPerS), f1(a.setBaselineMparamPerS), f3(a.ratio), f3(median(a.fedavgSeconds))]),
  );
  table(
    '   Fold: FedAvg accept() (checks, fold and finiteness check in one pass) vs a naive acc[i] += w·x[i] loop over the same updates (issue 11 goal: ratio ≥ 0.8)',
    ['sites', 'fedavg Mparam/s', 'naive Mparam/s', 'ratio', 'fedavg median s'],
    fold.map((f) => [String(f.sites), f1(f.fedavgMparamPerS), f1(f.naiveMparamPerS), f3(f.ratio), f3(median(f.fedavgSeconds))]),
  );
  table(
    `   Peak memory growth while aggregating, each update generated in the loop (one model = ${mib(MODEL_BYTES)} MB; fresh process per row)`,
    ['sites', 'gc', 'RSS MB', 'RSS in models', 'ArrayBuffers MB', 'AB in models', 'N updates alive MB'],
    memory.map((m) => [
      String(m.sites),
      m.gcMode,
      mib(m.peakRssGrowthBytes),
      f2(m.rssGrowthInModels),
      mib(m.peakArrayBufferGrowthBytes),
      f2(m.arrayBufferGrowthInModels),
      mib(m.allUpdatesAliveBytes),
    ]),
  );
  table(
    `2. Transfer of one update frame (${mib(xfer.frameBytes)} MB) on 127.0.0.1: ws vs raw net (length-prefixed), acked per frame`,
    ['case', 'ws MB/s', 'net MB/s', 'ws/net'],
    [
      [`1 socket, ${xfer.single.frames} frames back to back`, f1(xfer.single.wsMBps), f1(xfer.single.netMBps), f3(xfer.single.ratio)],
      ...xfer.concurrent.map((c) => [`${c.sites} sockets, 1 frame each, concurrent`, f1(c.wsMBps), f1(c.netMBps), f3(c.ratio)]),
    ],
  );
  table(
    `3. SHA-256 over the model (${mib(hash.bytes)} MB)`,
    ['implementation', 'MB/s', 'vs node:crypto'],
    [
      ['hashWeights (shared/model-hash.ts)', f1(hash.hashWeightsMBps), f3(hash.hashWeightsVsNodeCrypto)],
      ["node:crypto createHash('sha256')", f1(hash.nodeCryptoMBps), f3(1)],
      ['@noble/hashes sha256', f1(hash.nobleMBps), f3(hash.nobleVsNodeCrypto)],
    ],
  );

  const totalSeconds = secondsSince(started);
  const out = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      cpus: os.cpus().length,
      params: PARAMS,
      modelBytes: MODEL_BYTES,
      tensors: SPECS,
      reps: REPS,
      warmup: WARMUP,
      bufferutil,
      totalSeconds,
    },
    aggregation,
    fold,
    memory,
    transfer: xfer,
    hash,
  };
  mkdirSync('bench-out', { recursive: true });
  writeFileSync('bench-out/round.json', JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote bench-out/round.json in ${f1(totalSeconds)} s total`);
}

const childAt = process.argv.indexOf(MEM_CHILD_FLAG);
if (childAt >= 0) {
  const n = Number(process.argv[childAt + 1]);
  const mode = process.argv[childAt + 2] === 'forced-gc' ? 'forced-gc' : 'natural';
  console.log(JSON.stringify(aggregationMemory(n, mode)));
} else {
  await main();
}
