import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binOf, REGRESSION_LAYOUT } from '../../shared/conformal/score-sketch.js';
import { checkStats, preprocessingFrom, type Preprocessing } from '../../shared/feature-stats.js';
import { forward } from '../../shared/forward.js';
import { GENESIS_PREV_HASH, sealEntry, type LedgerEntry, type Participant } from '../../shared/ledger.js';
import { createKeyFiles } from '../../shared/key-files.js';
import { endorsementBody, generateKeyPair, helloBody, statsBody, updateBody, verify, type KeyPair } from '../../shared/signing.js';
import { hashStats } from '../../shared/feature-stats.js';
import { readFileSync } from 'node:fs';
import { metricsFromSums } from '../../shared/metrics.js';
import { hashWeights } from '../../shared/model-hash.js';
import { denseLayers } from '../../shared/model-spec.js';
import { decodeRegression } from '../../shared/preprocess.js';
import type { TrainingSettings } from '../../shared/run-config.js';
import { inputDim, isRegression, outputDim, type Study } from '../../shared/study.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import { firstNonFinite, type Weights } from '../../shared/tensors.js';
import { decodeUpdateFrame, parseAgentMessage, PROTOCOL_VERSION } from '../../shared/wire.js';
import { startAgent, type RunningAgent } from '../../site-agent/agent.js';
import { encodePart, loadSiteRows } from '../../site-agent/local-data.js';
import { FakeCoordinator, type AgentSocket } from './fake-coordinator.js';
import { csvText, prepOf, tempDir, until, warfarinRows, warfarinStudy, type TempDir } from './helpers.js';
import { challenge as scriptedChallenge, globalWeights, taskFrame, welcome } from './scripted-coordinator.js';

const study = warfarinStudy();
const training: TrainingSettings = { localEpochs: 2, lr: 0.01, lrDecay: 1, batchSize: 16, optimizer: 'adam', seed: 1 };
/** The run's preprocessing; the scripted run below replaces it with the one from the site's statistics. */
let runPrep: Preprocessing = prepOf(study, warfarinRows(60, 3));

function task(
  kind: 'train' | 'evaluate',
  round: number,
  w: Weights,
  opts: { study?: Study; modelHash?: string; prep?: Preprocessing } = {},
): Buffer {
  return taskFrame(kind, round, w, { study: opts.study ?? study, preprocessing: opts.prep ?? runPrep, training, proximalMu: 0 }, opts.modelHash === undefined ? {} : { modelHash: opts.modelHash });
}

/** The scripted coordinator's ledger key. */
const COORD = generateKeyPair();

function chain(n: number, after: LedgerEntry | null = null, runId = 'run-1', over: Partial<LedgerEntry> = {}): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  let prev = after;
  for (let i = 0; i < n; i++) {
    const index = prev === null ? 0 : prev.index + 1;
    prev = sealEntry(
      {
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
        coordinatorKey: COORD.publicKey,
        ...over,
      },
      COORD.secretKey,
    );
    out.push(prev);
  }
  return out;
}

const challenge = (key = COORD.publicKey) => scriptedChallenge(key);

/** The next agent connection, challenged; returns the socket and the agent's hello. */
async function challenged(coord: FakeCoordinator, key = COORD.publicKey): Promise<{ sock: AgentSocket; hello: Record<string, unknown> }> {
  const sock = await coord.nextAgent();
  sock.sendJson(challenge(key));
  return { sock, hello: await sock.nextJson() };
}

/** A site key folder for a test agent. */
function siteKey(tmp: TempDir): { dir: string; keys: KeyPair } {
  const dir = `${tmp.dir}/key`;
  return { dir, keys: createKeyFiles(dir, 'site') };
}


describe('site agent against a scripted coordinator', () => {
  let coord: FakeCoordinator;
  let tmp: TempDir;
  let agent: RunningAgent;
  let sock: AgentSocket;
  let dataFile: string;
  let key: { dir: string; keys: KeyPair };
  const lines: string[] = [];

  beforeAll(async () => {
    coord = await FakeCoordinator.start();
    tmp = tempDir('fedrx-agent-');
    dataFile = tmp.file('site-a.csv', csvText(warfarinRows(60, 3)));
    key = siteKey(tmp);
    agent = await startAgent({
      coordinatorUrl: coord.url,
      siteId: 'site-a',
      keyDir: key.dir,
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

  it('waits for the challenge, then says hello signed over the nonce and the coordinator key', async () => {
    await new Promise((r) => setTimeout(r, 100));
    expect(sock.pending()).toBe(0); // nothing before the challenge
    sock.sendJson(challenge());
    const hello = parseAgentMessage(JSON.stringify(await sock.nextJson()));
    if (hello.type !== 'hello') throw new Error(`expected hello, got ${hello.type}`);
    expect(hello).toMatchObject({ v: PROTOCOL_VERSION, siteId: 'site-a', nonce: 'a1'.repeat(32), replica: { length: 0, headHash: GENESIS_PREV_HASH }, backend: 'cpu' });
    expect(verify('hello', helloBody('site-a', hello.nonce, COORD.publicKey), hello.signature, key.keys.publicKey)).toBe(true);
    expect(verify('hello', helloBody('site-a', 'b2'.repeat(32), COORD.publicKey), hello.signature, key.keys.publicKey)).toBe(false);
    expect(agent.backend).toBe('cpu');
    // The coordinator key is pinned on first contact.
    expect(agent.replica.coordinatorKey()).toBe(COORD.publicKey);
    sock.sendJson(welcome(0, GENESIS_PREV_HASH));
  });

  it('answers a stats-request with the statistics of its training rows, and nothing else', async () => {
    sock.sendJson({ type: 'stats-request', v: PROTOCOL_VERSION, runId: 'run-1', study });
    const msg = await sock.nextJson();
    expect(Object.keys(msg).sort()).toEqual(['runId', 'signature', 'stats', 'type', 'v']);
    const report = parseAgentMessage(JSON.stringify(msg));
    if (report.type !== 'stats-report') throw new Error(`expected a stats-report, got ${report.type}`);
    expect(report.runId).toBe('run-1');
    const signed = statsBody({ runId: 'run-1', siteId: 'site-a', statsHash: hashStats(report.stats), rows: report.stats.rows });
    expect(verify('stats', signed, report.signature, key.keys.publicKey)).toBe(true);
    // Exactly the sums of the 43 training rows (60 rows, 12 held out, 5 calibrating) the site reads itself.
    const rows = await loadSiteRows(dataFile, study, { siteId: 'site-a' });
    const { train } = rows;
    expect(report.stats.rows).toBe(43);
    expect(() => checkStats(study, report.stats)).not.toThrow();
    const ages = train.map((r) => r.values[0]!);
    expect(report.stats.numeric.age_years).toEqual({
      count: 43,
      sum: ages.reduce((a, b) => a + b, 0),
      sumSq: ages.reduce((a, b) => a + b * b, 0),
    });
    expect(report.stats.levels.vkorc1_1639).toEqual([0, 1, 2, 3].map((l) => train.filter((r) => r.values[6] === l).length));
    expect(report.stats.levels.amiodarone).toEqual([0, 1].map((l) => train.filter((r) => r.values[7] === l).length));
    const doses = train.map((r) => r.target);
    expect(report.stats.target).toEqual({ count: 43, sum: doses.reduce((a, b) => a + b, 0), sumSq: doses.reduce((a, b) => a + b * b, 0) });
    // Held-out and calibration rows are not counted.
    expect(report.stats.levels.sex!.reduce((a, b) => a + b, 0)).toBe(43);
    expect(lines.some((l) => /reported statistics of 43 training rows/.test(l))).toBe(true);
    runPrep = preprocessingFrom(study, report.stats);
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
      numExamples: 43, // 60 rows, 12 held out, 5 calibrating
    });
    expect(header.updateHash).toBe(hashWeights(weights));
    expect(header.updateHash).not.toBe(hashWeights(w));
    expect(verify('update', updateBody(header), header.signature, key.keys.publicKey)).toBe(true);
    expect(verify('update', updateBody({ ...header, numExamples: 49 }), header.signature, key.keys.publicKey)).toBe(false);
    expect(Number.isFinite(header.trainLoss) && header.trainLoss > 0).toBe(true);
    expect(weights.map((t) => t.name)).toEqual(w.map((t) => t.name));
    expect(firstNonFinite(weights)).toBeNull();
    expect(lines.some((l) => /round 0: trained 2 epochs on 43 rows/.test(l))).toBe(true);
  });

  it('answers heartbeats while it trains: training runs off the connection\'s event loop', async () => {
    const wide = { ...study, model: { type: 'mlp' as const, hidden: [512, 512] } };
    const w = globalWeights(wide);
    const sent: number[] = [];
    const latencies: number[] = [];
    const onPong = (): void => void latencies.push(performance.now() - sent.shift()!);
    sock.ws.on('pong', onPong);
    const started = performance.now();
    sock.sendRaw(task('train', 3, w, { study: wide }));
    const pinger = setInterval(() => {
      sent.push(performance.now());
      sock.ws.ping();
    }, 50);
    try {
      expect(decodeUpdateFrame(await sock.nextBinary(60_000)).header.round).toBe(3);
    } finally {
      clearInterval(pinger);
      sock.ws.off('pong', onPong);
    }
    const trainedMs = performance.now() - started;
    expect(trainedMs).toBeGreaterThan(500); // the premise: training lasts at least 10 pings
    expect(latencies.length).toBeGreaterThan(trainedMs / 50 / 3);
    // Training in the event loop would hold pongs for a whole epoch, half of this task or more.
    expect(Math.max(...latencies)).toBeLessThan(Math.min(1000, trainedMs / 4));
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
    expect(second.loss).toBe(first.loss);
    expect(second.sums).toEqual(first.sums);
    if (!('absErr' in first.sums)) throw new Error('expected regression sums');
    const got = metricsFromSums(first.sums);
    expect(got.n).toBe(12);
    expect(got.mae).toBeGreaterThan(1); // MAE in mg/week of a random model
    // The same MAE, recomputed here with the plain forward pass on the site's held-out rows.
    if (!isRegression(study)) throw new Error('warfarin is a regression study');
    const held = encodePart(study, runPrep, (await loadSiteRows(dataFile, study, { siteId: 'site-a' })).test);
    const layers = denseLayers(study.model, inputDim(study), outputDim(study));
    const width = inputDim(study);
    let absErr = 0;
    let sumY = 0;
    for (let i = 0; i < held.n; i++) {
      const z = forward(layers, w, held.x.subarray(i * width, (i + 1) * width))[0]!;
      absErr += Math.abs(decodeRegression(study.target, runPrep, z) - held.actual[i]!);
      sumY += held.actual[i]!;
    }
    expect(Math.abs(got.mae - absErr / held.n)).toBeLessThan(1e-4 * got.mae);
    expect(first.sums.sumY).toBeCloseTo(sumY, 9);
    // Its 5 calibration rows, as binned scores |ẑ − z| (model space): the bins the plain forward pass gives, up to float32 at a bin edge.
    const cal = encodePart(study, runPrep, (await loadSiteRows(dataFile, study, { siteId: 'site-a' })).calibration);
    expect(first.calibration!.numExamples).toBe(5);
    expect(first.calibration!.counts).toHaveLength(2001);
    const got5 = first.calibration!.counts.flatMap((c, b) => new Array<number>(c).fill(b));
    const want5 = Array.from({ length: cal.n }, (_, i) => binOf(REGRESSION_LAYOUT, Math.abs(forward(layers, w, cal.x.subarray(i * width, (i + 1) * width))[0]! - cal.y[i]!))).sort((a, b) => a - b);
    got5.forEach((b, i) => expect(Math.abs(b - want5[i]!)).toBeLessThanOrEqual(1));
  });

  it('scores its validation part beside the held-out rows when the study has one, and trains without it', async () => {
    const validated: Study = { ...study, validation: { fraction: 0.25 } };
    const w = globalWeights(validated, 2);
    sock.sendRaw(task('evaluate', 1, w, { study: validated }));
    const msg = parseAgentMessage(JSON.stringify(await sock.nextJson()));
    if (msg.type !== 'eval-result') throw new Error(`expected an eval-result, got ${msg.type}`);
    const rows = await loadSiteRows(dataFile, validated, { siteId: 'site-a' });
    // Held-out part unchanged (12 rows); the validation part is its own share of the training rows.
    expect(msg.numExamples).toBe(12);
    expect(msg.validation?.numExamples).toBe(rows.validation.length);
    expect(rows.validation.length).toBeGreaterThan(0);
    // The validation part calibrates: no training row is set aside for it.
    expect(msg.calibration?.numExamples).toBe(rows.validation.length);
    expect(rows.calibration).toEqual([]);
    const layers = denseLayers(validated.model, inputDim(validated), outputDim(validated));
    const part = encodePart(validated, runPrep, rows.validation);
    let sq = 0;
    for (let i = 0; i < part.n; i++) sq += (forward(layers, w, part.x.subarray(i * inputDim(validated), (i + 1) * inputDim(validated)))[0]! - part.y[i]!) ** 2;
    expect(msg.validation!.loss).toBeCloseTo(sq / part.n, 4);
    // A train task trains on the rows left: validation rows are not among them.
    sock.sendRaw(task('train', 2, w, { study: validated }));
    const { header } = decodeUpdateFrame(await sock.nextBinary());
    expect(header.numExamples).toBe(rows.train.length);
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
    const prep: Preprocessing = { ...runPrep, numeric: { ...runPrep.numeric, inr_baseline: { mean: 1, sd: 0.3 } } };
    sock.sendRaw(task('train', 4, globalWeights(wider), { study: wider, prep }));
    const err = await sock.nextJson();
    expect(err).toMatchObject({ type: 'task-error', round: 4, code: 'E_CSV_MISSING_COLUMN' });
    expect(String(err.message)).toContain('"inr_baseline"');
    expect(String(err.message)).toContain('60 rows');
    // Statistics for that study are refused the same way, addressed to round 0.
    sock.sendJson({ type: 'stats-request', v: PROTOCOL_VERSION, runId: 'run-1', study: wider });
    const refused = await sock.nextJson();
    expect(refused).toMatchObject({ type: 'task-error', runId: 'run-1', round: 0, code: 'E_CSV_MISSING_COLUMN' });
    expect(String(refused.message)).toContain('"inr_baseline"');
    // Weights that do not fit the study are refused before any data is read.
    sock.sendRaw(task('train', 5, globalWeights(study), { study: wider, prep }));
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

  it('endorses an entry listing its own signed update once it has received the entry\'s model', async () => {
    const base = globalWeights(study, 7);
    sock.sendRaw(task('train', 7, base));
    const { header } = decodeUpdateFrame(await sock.nextBinary());
    const next = globalWeights(study, 8);
    const mine: Participant = { siteId: 'site-a', numExamples: header.numExamples, updateHash: header.updateHash, signature: header.signature };
    const [entry] = chain(1, agent.replica.entries().at(-1)!, 'run-1', {
      round: 7,
      parentModelHash: hashWeights(base),
      modelHash: hashWeights(next),
      participants: [mine],
    });
    sock.sendJson({ type: 'ledger-entries', v: 1, entries: [entry] });
    await until(() => agent.replica.head().length === 4, 'the entry in the replica');
    await new Promise((r) => setTimeout(r, 100));
    expect(sock.pending()).toBe(0); // not before it has seen the model bytes
    sock.sendRaw(task('evaluate', 7, next));
    const answers = [await sock.nextJson(), await sock.nextJson()];
    const endorsement = answers.find((m) => m.type === 'endorsement')!;
    expect(answers.map((m) => m.type).sort()).toEqual(['endorsement', 'eval-result']);
    expect(endorsement).toMatchObject({ v: 1, index: 3, entryHash: entry!.entryHash });
    expect(verify('endorsement', endorsementBody('site-a', 3, entry!.entryHash), String(endorsement.signature), key.keys.publicKey)).toBe(true);
    // The site keeps its own copy of what it endorsed.
    expect(agent.replica.ownEndorsements()).toEqual([{ index: 3, entryHash: entry!.entryHash, signature: endorsement.signature }]);
  });

  it('reconnects after a dropped connection and announces its new head', async () => {
    sock.ws.terminate();
    const next = await challenged(coord);
    sock = next.sock;
    expect(next.hello.replica).toEqual({ length: 4, headHash: agent.replica.head().headHash });
    sock.sendJson(welcome(4, agent.replica.head().headHash));
  });

  it('never logs patient values or its secret key', () => {
    const all = lines.join('\n');
    expect(all).not.toMatch(/P10\d\d/); // patient ids
    expect(all).not.toContain(Buffer.from(key.keys.secretKey).toString('hex'));
    expect(readFileSync(`${key.dir}/site.key`, 'utf8')).toContain(Buffer.from(key.keys.secretKey).toString('hex'));
  });

  it('refuses a coordinator that rewrites its chain: disconnects and stays away', async () => {
    const forked = chain(4, null, 'another-run');
    sock.sendJson({ type: 'ledger-entries', v: 1, entries: forked });
    expect(await sock.nextJson()).toMatchObject({ type: 'dispute', index: 0, code: 'E_REPLICA_DIVERGED' });
    await sock.closed;
    expect(lines.some((l) => l.includes('LEDGER DIVERGENCE') && l.includes('entry 0 differs'))).toBe(true);
    expect(agent.replica.head().length).toBe(4);
    await new Promise((r) => setTimeout(r, 1200)); // longer than the first backoff step
    expect(coord.waitingConnections()).toBe(0);
  });
});

describe('coordinators the agent refuses', () => {
  it('a welcome showing a shorter coordinator ledger than the replica is refused', async () => {
    const coord = await FakeCoordinator.start();
    const tmp = tempDir('fedrx-agent-');
    const lines: string[] = [];
    const agent = await startAgent({
      coordinatorUrl: coord.url,
      siteId: 'site-c',
      keyDir: siteKey(tmp).dir,
      dataFile: tmp.file('c.csv', csvText(warfarinRows(30, 5))),
      replicaDir: `${tmp.dir}/replica`,
      log: (l) => lines.push(l),
    });
    try {
      await agent.replica.append(chain(2));
      const { sock } = await challenged(coord);
      sock.sendJson(welcome(1, chain(1)[0]!.entryHash));
      await sock.closed;
      expect(lines.some((l) => l.includes('LEDGER DIVERGENCE'))).toBe(true);
    } finally {
      await agent.close();
      await coord.stop();
      tmp.cleanup();
    }
  });

  it('does not answer a coordinator whose key is not the pinned one, and stays away', async () => {
    const coord = await FakeCoordinator.start();
    const tmp = tempDir('fedrx-agent-');
    const lines: string[] = [];
    const agent = await startAgent({
      coordinatorUrl: coord.url,
      siteId: 'site-d',
      keyDir: siteKey(tmp).dir,
      coordinatorKey: COORD.publicKey, // given by the site's admin
      dataFile: tmp.file('d.csv', csvText(warfarinRows(30, 6))),
      replicaDir: `${tmp.dir}/replica`,
      log: (l) => lines.push(l),
    });
    try {
      const sock = await coord.nextAgent();
      sock.sendJson(challenge(generateKeyPair().publicKey));
      await sock.closed;
      expect(sock.pending()).toBe(0); // no hello was sent
      expect(lines.some((l) => /coordinator key [0-9a-f]{64} is not the pinned/.test(l))).toBe(true);
      await new Promise((r) => setTimeout(r, 1200));
      expect(coord.waitingConnections()).toBe(0);
    } finally {
      await agent.close();
      await coord.stop();
      tmp.cleanup();
    }
  });

  it('disputes an entry that lists a contribution it never signed, and leaves', async () => {
    const coord = await FakeCoordinator.start();
    const tmp = tempDir('fedrx-agent-');
    const lines: string[] = [];
    const agent = await startAgent({
      coordinatorUrl: coord.url,
      siteId: 'site-e',
      keyDir: siteKey(tmp).dir,
      dataFile: tmp.file('e.csv', csvText(warfarinRows(30, 7))),
      replicaDir: `${tmp.dir}/replica`,
      log: (l) => lines.push(l),
    });
    try {
      const { sock } = await challenged(coord);
      sock.sendJson(welcome(0, GENESIS_PREV_HASH));
      const invented: Participant = { siteId: 'site-e', numExamples: 500, updateHash: 'f'.repeat(64), signature: 'e'.repeat(128) };
      sock.sendJson({ type: 'ledger-entries', v: 1, entries: chain(2, null, 'run-1', { participants: [invented], parentModelHash: 'a'.repeat(64) }) });
      expect(await sock.nextJson()).toMatchObject({ type: 'dispute', index: 0, code: 'E_ENTRY_DISPUTED' });
      await sock.closed;
      expect(lines.some((l) => l.includes('did not sign'))).toBe(true);
      expect(agent.replica.ownEndorsements()).toEqual([]);
    } finally {
      await agent.close();
      await coord.stop();
      tmp.cleanup();
    }
  });
});
