// End to end: a real coordinator and three real site agents; a relay run (what a regional
// coordinator runs for its parent, docs/scale.md) driven step by step through the client:
// statistics, a training round from a task frame built here, an evaluation, the end; and the
// steps and settings it refuses.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CoordinatorClient } from '../../cli/client/client.js';
import { headSigned } from '../../shared/ledger-head.js';
import { hashWeights } from '../../shared/model-hash.js';
import { initialWeights } from '../../shared/model-init.js';
import { decodeRelayUpdate } from '../../shared/relay-wire.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { inputDim, outputDim, type Study } from '../../shared/study.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';
import { loadSiteRows } from '../../site-agent/local-data.js';
import { startFederation, type Federation } from './harness.js';
import { tempDir } from '../helpers/temp.js';

const STUDY = JSON.parse(readFileSync(fileURLToPath(new URL('../../datasets/studies/synthetic-warfarin.json', import.meta.url)), 'utf8')) as Study;
const SETTINGS = { study: STUDY, minSites: 3, localEpochs: 1, waitForSitesSec: 60, roundTimeoutSec: 60 };

let fed: Federation | undefined;
afterAll(async () => {
  await fed?.stop();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
}

const taskFrame = (kind: 'train' | 'evaluate', runId: string, round: number, weights: Weights, config: TaskConfig): Buffer =>
  encodeFrame({ v: PROTOCOL_VERSION, kind, runId, round, modelHash: hashWeights(weights), config }, weights);

describe('relay runs end to end', () => {
  it('runs statistics, a training round from a task frame, an evaluation and the end as its parent posts them', async () => {
    fed = await startFederation(tempDir('e2e-relay'), { sites: 3 });
    const client: CoordinatorClient = fed.clients['data-scientist'];
    // What each site trains and evaluates on, read as its agent reads it.
    const parts = await Promise.all(fed.sites.map((s) => loadSiteRows(s.file, STUDY, { siteId: s.siteId })));
    const trainRows = parts.reduce((n, p) => n + p.train.length, 0);
    const testRows = parts.reduce((n, p) => n + p.test.length, 0);

    // A relay run's answer must be its sites' aggregate of the parent's model.
    expect(await codeOf(client.createRun({ ...SETTINGS, strategy: 'exact', study: { ...STUDY, model: { type: 'linear' } }, relay: { parentRunId: 'national-1' } }))).toBe('E_RELAY_SETTINGS');
    expect(await codeOf(client.createRun({ ...SETTINGS, strategy: 'fedadam', relay: { parentRunId: 'national-1' } }))).toBe('E_RELAY_SETTINGS');

    const run = await client.createRun({ ...SETTINGS, relay: { parentRunId: 'national-1', idleSec: 600 } });
    expect(run.config).toMatchObject({ relay: { parentRunId: 'national-1', idleSec: 600 } });

    // A normal run queued behind the relay run takes no relay step.
    const normal = await client.startRun({ ...SETTINGS });
    expect(await codeOf(client.relayStatistics(normal.id))).toBe('E_RELAY_NOT_RELAY');
    expect((await client.cancelRun(normal.id)).status).toBe('cancelled');

    // Statistics: round 0, the sites' training rows merged; the head is the ledger's, signed.
    const stats = await client.relayStatistics(run.id);
    expect(stats.sites).toBe(3);
    expect(stats.stats.rows).toBe(trainRows);
    expect(headSigned(stats.head)).toBe(true);
    const afterStats = await client.ledger();
    expect({ length: stats.head.length, headHash: stats.head.headHash }).toEqual({ length: afterStats.length, headHash: afterStats.headHash });
    expect(await codeOf(client.relayStatistics(run.id))).toBe('E_DUPLICATE_UPDATE');

    // Train: from the run's own round-0 model, with a task as the parent would send it.
    const view = await client.run(run.id);
    const prep = view.preprocessing as Preprocessing;
    const weights = initialWeights(STUDY.model, inputDim(STUDY), outputDim(STUDY), 1);
    expect(hashWeights(weights)).toBe(view.rounds[0]!.modelHash);
    const config: TaskConfig = { study: STUDY, preprocessing: prep, training: { localEpochs: 1, lr: 0.01, lrDecay: 1, batchSize: 32, optimizer: 'adam', seed: 1 }, proximalMu: 0 };
    const answer = decodeRelayUpdate(await client.relayTrain(run.id, taskFrame('train', run.id, 1, weights, config)));
    const h = answer.header;
    expect(hashWeights(answer.weights)).toBe(h.modelHash);
    expect(h).toMatchObject({ kind: 'relay-update', runId: run.id, round: 1, numExamples: trainRows, sites: 3 });
    expect(Number.isFinite(h.trainLoss) && h.trainLoss > 0).toBe(true);
    const chain = await client.ledger();
    const entry = chain.entries.at(-1)!;
    expect(entry).toMatchObject({ runId: run.id, round: 1, modelHash: h.modelHash, parentModelHash: hashWeights(weights) });
    expect(entry.participants.map((p) => p.siteId).sort()).toEqual(fed.sites.map((s) => s.siteId).sort());
    expect(entry.participants.reduce((n, p) => n + p.numExamples, 0)).toBe(trainRows);
    expect(headSigned(h.head)).toBe(true);
    expect({ length: h.head.length, headHash: h.head.headHash }).toEqual({ length: chain.length, headHash: chain.headHash });

    // Refused frames: the round again, another run's frame, bytes that are no frame, JSON.
    expect(await codeOf(client.relayTrain(run.id, taskFrame('train', run.id, 1, weights, config)))).toBe('E_DUPLICATE_UPDATE');
    expect(await codeOf(client.relayTrain(run.id, taskFrame('train', normal.id, 2, weights, config)))).toBe('E_WRONG_RUN');
    expect(await codeOf(client.relayTrain(run.id, Buffer.from('not a frame at all')))).toMatch(/^E_FRAME_/);
    const raw = await fetch(`${fed.url}/v1/runs/${run.id}/relay/evaluate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fed.tokens['data-scientist']}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from([1, 2, 3]),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toMatch(/^E_FRAME_/);
    expect(await codeOf(client.relayTrain(run.id, taskFrame('evaluate', run.id, 2, weights, config)))).toBe('E_FRAME_HEADER');

    // Evaluate the region's aggregate: one answer over every site's held-out rows.
    const evaluation = await client.relayEvaluate(run.id, taskFrame('evaluate', run.id, 1, answer.weights, config));
    expect(evaluation.sites).toBe(3);
    expect(evaluation.numExamples).toBe(testRows);
    expect(evaluation.sums.n).toBe(testRows);
    expect(evaluation.groups!.reduce((n, g) => n + g.sums.n, 0)).toBe(testRows);
    expect(evaluation.calibration!.counts.reduce((n, c) => n + c, 0)).toBe(evaluation.calibration!.numExamples);

    // End: the run completes and takes no more steps.
    const ended = await client.relayEnd(run.id);
    expect(ended.status).toBe('completed');
    expect(ended.rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(await codeOf(client.relayEnd(run.id))).toBe('E_RUN_FINISHED');
    expect(await client.verifyLedger()).toMatchObject({ ok: true });
  }, 120_000);
});
