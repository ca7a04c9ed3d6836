import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_PREV_HASH, sealEntry, type LedgerEntry } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import { weightSpecs } from '../../shared/model-spec.js';
import type { TrainingSettings } from '../../shared/run-config.js';
import { inputDim, outputDim, type Study } from '../../shared/study.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import { firstNonFinite, type Weights } from '../../shared/tensors.js';
import { decodeUpdateFrame, parseAgentMessage, PROTOCOL_VERSION } from '../../shared/wire.js';
import { startAgent, type RunningAgent } from '../../site-agent/agent.js';
import { agentUrl, backoffDelay } from '../../site-agent/connection.js';
import { Prng } from '../../shared/prng.js';
import { FakeCoordinator, type AgentSocket } from './fake-coordinator.js';
import { csvText, tempDir, warfarinRows, warfarinStudy, type TempDir } from './helpers.js';

const study = warfarinStudy();
const training: TrainingSettings = { localEpochs: 2, lr: 0.01, batchSize: 16, optimizer: 'adam', seed: 1 };

function globalWeights(s: Study, seed = 1): Weights {
  const rRng = new Prng(seed);
  const r = (): number => rRng.next();
  return weightSpecs(s.model, inputDim(s), outputDim(s)).map((t) => ({
    name: t.name,
    shape: t.shape,
    data: Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 0.4),
  }));
}

function task(kind: 'train' | 'evaluate', round: number, w: Weights, opts: { study?: Study; modelHash?: string } = {}): Buffer {
  return encodeFrame(
    {
      v: PROTOCOL_VERSION,
      kind,
      runId: 'run-1',
      round,
      modelHash: opts.modelHash ?? hashWeights(w),
      config: { study: opts.study ?? study, training },
    },
    w,
  );
}

function chain(n: number, after: LedgerEntry | null = null, runId = 'run-1'): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  let prev = after;
  for (let i = 0; i < n; i++) {
    const index = prev === null ? 0 : prev.index + 1;
    prev = sealEntry({
      index,
      prevHash: prev === null ? GENESIS_PREV_HASH : prev.entryHash,
      runId,
      round: index,
      modelHash: 'b'.repeat(64),
      parentModelHash: null,
      participants: [],
      configHash: 'c'.repeat(64),
      metrics: {},
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    out.push(prev);
  }
  return out;
}

const welcome = (length: number, headHash: string) => ({ type: 'welcome', v: 1, siteId: 'site-a', ledger: { length, headHash } });

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('connection helpers', () => {
  it('maps the coordinator URL to the agent WebSocket endpoint', () => {
    expect(agentUrl('http://localhost:8080')).toBe('ws://localhost:8080/v1/agents');
    expect(agentUrl('https://fl.example.org/fedrx/')).toBe('wss://fl.example.org/fedrx/v1/agents');
    expect(agentUrl('ws://10.0.0.1:9000')).toBe('ws://10.0.0.1:9000/v1/agents');
    expect(() => agentUrl('ftp://x')).toThrow(/http\(s\) or ws\(s\)/);
  });

  it('backs off from 0.5 s doubling to a 10 s cap, with jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, 500, 10_000, () => 1))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelay(0, 500, 10_000, () => 0)).toBe(250);
    expect(backoffDelay(40, 500, 10_000, () => 0)).toBe(5000);
  });
});

describe('site agent against a scripted coordinator', () => {
  let coord: FakeCoordinator;
  let tmp: TempDir;
  let agent: RunningAgent;
  let sock: AgentSocket;
  const lines: string[] = [];

  beforeAll(async () => {
    coord = await FakeCoordinator.start();
    tmp = tempDir('fedrx-agent-');
    const dataFile = tmp.file('site-a.csv', csvText(warfarinRows(60, 3)));
    agent = await startAgent({
      coordinatorUrl: coord.url,
      siteId: 'site-a',
      token: 'secret-token',
      dataFile,
      replicaDir: `${tmp.dir}/replica`,
      log: (l) => lines.push(l),
    });
    sock = await coord.nextAgent();
  });

  afterAll(async () => {
    await agent?.close();
    await coord?.stop();
    tmp?.cleanup();
  });

  it('says hello with its id, token, replica head and backend', async () => {
    const hello = parseAgentMessage(JSON.stringify(await sock.nextJson()));
    expect(hello).toEqual({
      type: 'hello',
      v: PROTOCOL_VERSION,
      siteId: 'site-a',
      token: 'secret-token',
      replica: { length: 0, headHash: GENESIS_PREV_HASH },
      backend: 'cpu',
    });
    expect(agent.backend).toBe('cpu');
    sock.sendJson(welcome(0, GENESIS_PREV_HASH));
  });

  it('trains on a train task and sends a well-formed update frame', async () => {
    const w = globalWeights(study);
    sock.sendRaw(task('train', 0, w));
    const { header, weights } = decodeUpdateFrame(await sock.nextBinary());
    expect(header).toMatchObject({
      v: PROTOCOL_VERSION,
      kind: 'update',
      runId: 'run-1',
      round: 0,
      siteId: 'site-a',
      baseModelHash: hashWeights(w),
      numExamples: 48, // 60 rows, 12 held out
    });
    expect(header.updateHash).toBe(hashWeights(weights));
    expect(header.updateHash).not.toBe(hashWeights(w));
    expect(Number.isFinite(header.trainLoss) && header.trainLoss > 0).toBe(true);
    expect(weights.map((t) => t.name)).toEqual(w.map((t) => t.name));
    expect(firstNonFinite(weights)).toBeNull();
    expect(lines.some((l) => /round 0: trained 2 epochs on 48 rows/.test(l))).toBe(true);
  });

  it('evaluates on the held-out rows, tasks answered in order', async () => {
    const w = globalWeights(study, 2);
    sock.sendRaw(task('evaluate', 1, w));
    sock.sendRaw(task('evaluate', 2, w));
    const first = parseAgentMessage(JSON.stringify(await sock.nextJson()));
    const second = parseAgentMessage(JSON.stringify(await sock.nextJson()));
    expect(first).toMatchObject({ type: 'eval-result', runId: 'run-1', round: 1, modelHash: hashWeights(w), numExamples: 12 });
    expect(second).toMatchObject({ type: 'eval-result', round: 2 });
    if (first.type !== 'eval-result' || second.type !== 'eval-result') throw new Error('unreachable');
    expect(first.loss).toBeGreaterThan(0);
    expect(first.metric).toBeGreaterThan(1); // MAE in mg/week of a random model
    expect(second.loss).toBe(first.loss);
  });

  it('answers a model whose bytes do not match modelHash with E_HASH_MISMATCH', async () => {
    const w = globalWeights(study, 3);
    sock.sendRaw(task('train', 3, w, { modelHash: 'e'.repeat(64) }));
    expect(await sock.nextJson()).toMatchObject({ type: 'task-error', v: 1, runId: 'run-1', round: 3, code: 'E_HASH_MISMATCH' });
  });

  it('reports a missing CSV column as a task error and keeps running', async () => {
    const wider: Study = {
      ...study,
      features: [...study.features, { kind: 'numeric', name: 'inr_baseline', min: 0.5, max: 5, center: 1, scale: 0.3 }],
    };
    sock.sendRaw(task('train', 4, globalWeights(wider), { study: wider }));
    const err = await sock.nextJson();
    expect(err).toMatchObject({ type: 'task-error', round: 4, code: 'E_CSV_MISSING_COLUMN' });
    expect(String(err.message)).toContain('"inr_baseline"');
    expect(String(err.message)).toContain('60 rows');
    // Weights that do not fit the study are refused before any data is read.
    sock.sendRaw(task('train', 5, globalWeights(study), { study: wider }));
    expect(await sock.nextJson()).toMatchObject({ type: 'task-error', round: 5, code: 'E_SHAPE_MISMATCH' });
  });

  it('survives garbage from the server', async () => {
    sock.sendRaw('this is not json');
    sock.sendRaw(JSON.stringify({ type: 'welcome', v: 99 }));
    sock.sendRaw(JSON.stringify({ type: 'surprise', v: 1 }));
    sock.sendRaw(Buffer.from([1, 2, 3]));
    sock.sendRaw(encodeFrame({ v: 1, kind: 'train', runId: 'run-1', round: 6 }, [])); // no config
    expect(await sock.nextJson()).toMatchObject({ type: 'task-error', round: 6, code: 'E_FRAME_HEADER' });
    sock.sendJson({ type: 'error', v: 1, code: 'E_STALE_ROUND', message: 'too late', runId: 'run-1', round: 0 });
    await until(() => lines.some((l) => l.includes('E_STALE_ROUND')), 'the error to be logged');
    expect(lines.filter((l) => l.startsWith('ignored a message')).length).toBe(3);
  });

  it('appends ledger entries to its replica', async () => {
    const entries = chain(3);
    sock.sendJson({ type: 'ledger-entries', v: 1, entries: entries.slice(0, 2) });
    sock.sendJson({ type: 'ledger-entries', v: 1, entries }); // overlapping re-send
    await until(() => agent.replica.head().length === 3, 'three replica entries');
    expect(agent.replica.head().headHash).toBe(entries[2]!.entryHash);
  });

  it('reconnects after a dropped connection and announces its new head', async () => {
    sock.ws.terminate();
    sock = await coord.nextAgent();
    const hello = await sock.nextJson();
    expect(hello.replica).toEqual({ length: 3, headHash: agent.replica.head().headHash });
    sock.sendJson(welcome(3, agent.replica.head().headHash));
  });

  it('never logs patient values', () => {
    const all = lines.join('\n');
    expect(all).not.toMatch(/P10\d\d/); // patient ids
    expect(all).not.toContain('secret-token');
  });

  it('refuses a coordinator that rewrites its chain: disconnects and stays away', async () => {
    const forked = chain(4, null, 'another-run');
    sock.sendJson({ type: 'ledger-entries', v: 1, entries: forked });
    await sock.closed;
    expect(lines.some((l) => l.includes('LEDGER DIVERGENCE') && l.includes('entry 0 differs'))).toBe(true);
    expect(agent.replica.head().length).toBe(3);
    await new Promise((r) => setTimeout(r, 1200)); // longer than the first backoff step
    expect(coord.waitingConnections()).toBe(0);
  });
});

describe('fault injection (test only)', () => {
  it("'nan-update' sends a NaN in the first weight, hashed as sent", async () => {
    const coord = await FakeCoordinator.start();
    const tmp = tempDir('fedrx-agent-');
    const agent = await startAgent({
      coordinatorUrl: coord.url,
      siteId: 'site-b',
      dataFile: tmp.file('b.csv', csvText(warfarinRows(30, 4))),
      replicaDir: `${tmp.dir}/replica`,
      log: () => {},
      fault: 'nan-update',
    });
    try {
      const sock = await coord.nextAgent();
      await sock.nextJson(); // hello
      sock.sendRaw(task('train', 0, globalWeights(study)));
      const { header, weights } = decodeUpdateFrame(await sock.nextBinary());
      expect(Number.isNaN(weights[0]!.data[0])).toBe(true);
      expect(firstNonFinite(weights)).toEqual(['dense0/kernel', 0]);
      expect(header.updateHash).toBe(hashWeights(weights));
    } finally {
      await agent.close();
      await coord.stop();
      tmp.cleanup();
    }
  });

  it('a welcome showing a shorter coordinator ledger than the replica is refused', async () => {
    const coord = await FakeCoordinator.start();
    const tmp = tempDir('fedrx-agent-');
    const lines: string[] = [];
    const agent = await startAgent({
      coordinatorUrl: coord.url,
      siteId: 'site-c',
      dataFile: tmp.file('c.csv', csvText(warfarinRows(30, 5))),
      replicaDir: `${tmp.dir}/replica`,
      log: (l) => lines.push(l),
    });
    try {
      await agent.replica.append(chain(2));
      const sock = await coord.nextAgent();
      await sock.nextJson();
      sock.sendJson(welcome(1, chain(1)[0]!.entryHash));
      await sock.closed;
      expect(lines.some((l) => l.includes('LEDGER DIVERGENCE'))).toBe(true);
    } finally {
      await agent.close();
      await coord.stop();
      tmp.cleanup();
    }
  });
});
