// The agent's tasks against a scripted coordinator: a round redone (the coordinator crashed before
// committing it, or the answer was lost) gets the very same signed answer back instead of a second
// training, also after the agent restarted; a task already under way is answered once; and a second
// training task while one holds the site is refused at once with E_SITE_BUSY. A run that compresses
// its updates gets its change as top-k entries, signed over the bytes sent.

import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GENESIS_PREV_HASH } from '../../shared/ledger.js';
import { createKeyFiles, readKeyPair } from '../../shared/key-files.js';
import { generateKeyPair, updateBody, verify } from '../../shared/signing.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { decodeUpdateFrame, PROTOCOL_VERSION } from '../../shared/wire.js';
import { topkCount } from '../../shared/compression/top-k.js';
import { reconstructUpdate } from '../../shared/compression/update-codec.js';
import { decodeCompressedUpdate } from '../../shared/compression/wire.js';
import { hashWeights } from '../../shared/model-hash.js';
import { encodeFrame, frameKind } from '../../shared/tensor-codec.js';
import { totalParams } from '../../shared/tensors.js';
import { startAgent, type RunningAgent } from '../../site-agent/agent.js';
import { ANSWERS_DIR } from '../../site-agent/answer-store.js';
import { FakeCoordinator, type AgentSocket } from './fake-coordinator.js';
import { csvText, prepOf, tempDir, until, warfarinRows, warfarinStudy, type TempDir } from './helpers.js';
import { challenge, globalWeights, taskFrame, welcome } from './scripted-coordinator.js';

const study = warfarinStudy();
const rows = warfarinRows(60, 3);
const config: TaskConfig = { study, preprocessing: prepOf(study, rows), training: { localEpochs: 2, lr: 0.01, lrDecay: 1, batchSize: 16, optimizer: 'adam', seed: 1 }, proximalMu: 0 };
const COORD = generateKeyPair();
const GATED = new URL('../helpers/gated-compute-thread.mjs', import.meta.url);

interface Site {
  agent: RunningAgent;
  sock: AgentSocket;
  lines: string[];
  count(pattern: RegExp): number;
}

const open: { agent: RunningAgent; coord: FakeCoordinator }[] = [];
let tmp: TempDir | undefined;
afterEach(async () => {
  for (const { agent, coord } of open.splice(0)) {
    await agent.close();
    await coord.stop();
  }
  tmp?.cleanup();
  tmp = undefined;
});

/** site-a's agent on the state folder in `dir`, connected and welcomed by a fresh scripted coordinator. */
async function startSite(dir: string, computeEntry?: URL): Promise<Site> {
  const keyDir = path.join(dir, 'key');
  if (readdirSync(dir).every((f) => f !== 'key')) createKeyFiles(keyDir, 'site');
  const coord = await FakeCoordinator.start();
  const lines: string[] = [];
  const agent = await startAgent({
    coordinatorUrl: coord.url,
    siteId: 'site-a',
    keyDir,
    dataFile: path.join(dir, 'site-a.csv'),
    replicaDir: path.join(dir, 'replica'),
    log: (l) => lines.push(l),
    ...(computeEntry === undefined ? {} : { computeEntry }),
  });
  open.push({ agent, coord });
  const sock = await coord.nextAgent();
  sock.sendJson(challenge(COORD.publicKey));
  await sock.nextJson(); // hello
  sock.sendJson(welcome(0, GENESIS_PREV_HASH));
  return { agent, sock, lines, count: (p) => lines.filter((l) => p.test(l)).length };
}

function newFolder(): string {
  tmp = tempDir('fedrx-tasks-');
  tmp.file('site-a.csv', csvText(rows));
  return tmp.dir;
}

describe('a task the site already answered', () => {
  it('gets the very same signed update and evaluation again, not a second training, also after a restart', async () => {
    const dir = newFolder();
    const site = await startSite(dir);
    const { sock } = site;
    const base = globalWeights(study, 1);
    const train = taskFrame('train', 1, base, config);

    sock.sendRaw(train);
    const first = await sock.nextBinary(30_000);
    sock.sendRaw(train); // the coordinator redoes round 1
    const again = await sock.nextBinary(30_000);
    expect(again.equals(first)).toBe(true); // same bytes: same weights, updateHash and signature
    const { header } = decodeUpdateFrame(first);
    expect(header).toMatchObject({ runId: 'run-1', round: 1, siteId: 'site-a', numExamples: 43 }); // 60 rows, 12 held out, 5 calibrating
    expect(verify('update', updateBody(header), header.signature, readKeyPair(path.join(dir, 'key'), 'site').publicKey)).toBe(true);
    expect(site.count(/^round 1: trained 2 epochs on 43 rows/)).toBe(1);
    expect(site.lines).toContain(`round 1: re-sent the update already sent for this task (run run-1, model ${header.baseModelHash.slice(0, 12)}, update ${header.updateHash.slice(0, 12)}): not trained twice`);

    const next = globalWeights(study, 2);
    const evaluate = taskFrame('evaluate', 1, next, config);
    sock.sendRaw(evaluate);
    const result = await sock.next(30_000);
    sock.sendRaw(evaluate);
    const resent = await sock.next(30_000);
    expect(result.kind).toBe('text');
    expect(resent).toEqual(result);
    expect(site.count(/^round 1: evaluated on 12 held-out rows/)).toBe(1);
    expect(site.count(/^round 1: re-sent the evaluation already sent for this task/)).toBe(1);

    // Another config for the same round and model is another task: trained.
    sock.sendRaw(taskFrame('train', 1, base, { ...config, training: { ...config.training, lr: 0.02 } }));
    const other = await sock.nextBinary(30_000);
    expect(other.equals(first)).toBe(false);
    expect(site.count(/^round 1: trained 2 epochs/)).toBe(2);

    // The agent restarts on the same state folder; the coordinator asks for round 1 once more.
    await site.agent.close();
    const restarted = await startSite(dir);
    restarted.sock.sendRaw(train);
    expect((await restarted.sock.nextBinary(30_000)).equals(first)).toBe(true);
    expect(restarted.count(/trained \d+ epochs/)).toBe(0);
    expect(restarted.count(/^round 1: re-sent the update already sent for this task/)).toBe(1);
    // Bounded: the two latest updates, the evaluation and the index.
    expect(readdirSync(path.join(dir, 'replica', ANSWERS_DIR)).filter((f) => f.startsWith('train-')).length).toBe(2);
    expect(restarted.sock.pending()).toBe(0);
  });
});

describe('a site busy training', () => {
  it('refuses another training task at once with E_SITE_BUSY, answers a repeat of its own task once, and queues the evaluation', async () => {
    const dir = newFolder();
    const { sock, lines, count } = await startSite(dir, GATED);
    const w = globalWeights(study, 1);
    const round1 = taskFrame('train', 1, w, config);
    sock.sendRaw(round1);
    await until(() => count(/^stand-in: training/) === 1, 'round 1 training to start');

    sock.sendRaw(taskFrame('train', 2, w, config));
    const busy = await sock.nextJson();
    expect(busy).toMatchObject({ type: 'task-error', v: 1, runId: 'run-1', round: 2, code: 'E_SITE_BUSY' });
    expect(busy.message).toBe('this site is still training run run-1 round 1 and takes one training task at a time: train task for run run-1 round 2 refused');

    sock.sendRaw(round1); // the coordinator restarted and redoes round 1 while it trains
    sock.sendRaw(taskFrame('evaluate', 1, w, config)); // waits its turn
    await until(() => count(/^round 1: the same train task for run run-1 is already under way: answered once$/) === 1, 'the repeat to be seen');
    await until(() => count(/^round 1: evaluate task for run run-1$/) === 1, 'the evaluation to be queued');
    expect(sock.pending()).toBe(0);

    writeFileSync(`${dir}/site-a.csv.go`, ''); // training may end
    expect(decodeUpdateFrame(await sock.nextBinary()).header).toMatchObject({ round: 1, numExamples: 10 });
    expect(await sock.nextJson()).toMatchObject({ type: 'eval-result', round: 1, numExamples: 5 });

    // Free again: round 2 is taken now.
    sock.sendRaw(taskFrame('train', 2, w, config));
    expect(decodeUpdateFrame(await sock.nextBinary()).header.round).toBe(2);
    expect(count(/^stand-in: training/)).toBe(2);
    expect(sock.pending()).toBe(0);
    expect(lines).toContain('round 2: this site is still training run run-1 round 1 and takes one training task at a time: train task for run run-1 round 2 refused');
  });
});

describe('a run that compresses its updates', () => {
  it('answers with its change as top-k entries signed over the payload sent, re-sends them for a redone round, and refuses compression with DP', async () => {
    const dir = newFolder();
    const site = await startSite(dir);
    const { sock } = site;
    const c = { codec: 'topk', fraction: 0.1 } as const;
    const compressed: TaskConfig = { ...config, compression: c };
    const base = globalWeights(study, 1);
    const k = topkCount(0.1, totalParams(base));
    const train = taskFrame('train', 1, base, compressed);

    sock.sendRaw(train);
    const first = await sock.nextBinary(30_000);
    expect(frameKind(first)).toBe('compressed-update');
    const { header, payload } = decodeCompressedUpdate(first); // the payload matches its updateHash
    expect(header).toMatchObject({ runId: 'run-1', round: 1, siteId: 'site-a', codec: 'topk', numExamples: 43 });
    expect(verify('update', updateBody(header), header.signature, readKeyPair(path.join(dir, 'key'), 'site').publicKey)).toBe(true);
    expect(payload.data.length).toBe(2 * k);
    // Round 1 carries no residual: the rebuilt model moves from the global one in exactly k weights.
    const rebuilt = reconstructUpdate(base, payload, c);
    expect(rebuilt.reduce((n, t, i) => n + t.data.filter((x, j) => x !== base[i]!.data[j]).length, 0)).toBe(k);
    expect(site.count(new RegExp(`^round 1: trained 2 epochs on 43 rows .*; change sent as top-k 10% in ${first.length} bytes \\(${2 * k} sparse words\\)$`))).toBe(1);

    sock.sendRaw(train); // the coordinator redoes round 1
    expect((await sock.nextBinary(30_000)).equals(first)).toBe(true);
    expect(site.lines).toContain(`round 1: re-sent the compressed update already sent for this task (run run-1, model ${header.baseModelHash.slice(0, 12)}, update ${header.updateHash.slice(0, 12)}): not trained twice`);

    // A DP task that also asks for compression (the coordinator refuses the pairing; the site does too).
    const dp = { clip: 1, noiseStd: 0, noiseMultiplier: 1, samplingRate: 1, delta: 1e-3, roundsLeft: 1 };
    sock.sendRaw(encodeFrame({ v: PROTOCOL_VERSION, kind: 'train', runId: 'run-1', round: 2, modelHash: hashWeights(base), config: compressed, dp }, base));
    expect(await sock.nextJson(30_000)).toMatchObject({ type: 'task-error', round: 2, code: 'E_COMPRESSION_SETTINGS' });
  });
});

