// REST API through Fastify's inject on a real app and SQLite file: bad bodies get coded 4xx
// errors; predictions answer with the model hash and ledger entry they came from.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import type { Role } from '../../../shared/roles.js';
import { hashConfig } from '../../../shared/ledger.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../../coordinator/run-config-schema.js';
import type { Weights } from '../../../shared/tensors.js';
import { tempDir } from '../../helpers/temp.js';
import { TINY_PREP, TINY_STUDY } from '../../helpers/tiny-study.js';

let c: Coordinator;
let runId: string;
let modelHash: string;
const auth: Partial<Record<Role, { authorization: string }>> = {};

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('routes'), 'c.sqlite'), log: () => {} });
  for (const role of ['data-scientist', 'clinician'] as const) auth[role] = { authorization: `Bearer ${c.tokens.create(role).token}` };
  // A committed model written straight through the store: y = 2·x1 + 3·[g = b] + 1.
  const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };
  const run = c.store.createRun(config, hashConfig(config));
  runId = run.id;
  c.store.setPreprocessing(runId, TINY_PREP);
  const weights: Weights = [
    { name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([2, 3]) },
    { name: 'dense0/bias', shape: [1], data: new Float32Array([1]) },
  ];
  modelHash = hashWeights(weights);
  c.store.commitRound({
    runId, round: 1, startedAt: new Date().toISOString(), modelHash, weights, metrics: { sites: 1 }, sites: [], state: { progress: '{}', strategy: null }, bestRound: 1,
    entry: { parentModelHash: null, participants: [], configHash: run.configHash },
  });
});

afterAll(async () => {
  await c.close();
});

// Each route with the role that calls it: predictions by a clinician, runs by a data scientist.
const roleFor = (url: string): Role => (url.startsWith('/v1/predict') ? 'clinician' : 'data-scientist');
const post = (url: string, payload: unknown) => c.app.inject({ method: 'POST', url, payload: payload as object, headers: auth[roleFor(url)] });
const get = (url: string) => c.app.inject({ url, headers: auth[roleFor(url)] });

describe('REST API', () => {
  it('healthz reports the ledger head', async () => {
    const res = await c.app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, ledger: { length: 1 } });
  });

  it.each([
    [{ rounds: 0 }, /rounds/],
    [{ rounds: 'many' }, /rounds/],
    [{ minSites: -1 }, /minSites/],
    [{ lr: 0 }, /lr/],
    [{ colour: 'blue' }, /additional/],
    [{ study: 'no-such-study' }, /no study named no-such-study/],
    [{ study: { ...TINY_STUDY, features: [] } }, /features|study/],
    [{ study: { ...TINY_STUDY, target: { ...TINY_STUDY.target, name: 'x1' } } }, /"x1" is both a feature and the target/],
  ])('POST /v1/runs refuses %j with E_BAD_REQUEST', async (body, message) => {
    const res = await post('/v1/runs', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('E_BAD_REQUEST');
    expect(res.json().error.message).toMatch(message);
  });

  it('POST /v1/runs refuses a body that is not JSON', async () => {
    const res = await c.app.inject({ method: 'POST', url: '/v1/runs', payload: '{oops', headers: { 'content-type': 'application/json', ...auth['data-scientist'] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('E_BAD_REQUEST');
  });

  it('GET /v1/runs/:id: 404 for an unknown run, 400 for a malformed id', async () => {
    expect((await get('/v1/runs/run-00000000')).json().error.code).toBe('E_NOT_FOUND');
    expect((await get('/v1/runs/../../etc')).statusCode).toBe(404);
    expect((await get('/v1/runs/RUN;drop')).json().error.code).toBe('E_BAD_REQUEST');
    const res = await get(`/v1/runs/${runId}`);
    expect(res.json()).toMatchObject({ id: runId, study: 'tiny', rounds: [{ round: 1, modelHash }] });
  });

  it('POST /v1/predict answers with the model hash and ledger entry', async () => {
    const res = await post('/v1/predict', { runId, features: { x1: 4, g: 'b' } });
    expect(res.statusCode).toBe(200);
    const entry = c.store.ledger.get(0)!;
    expect(res.json()).toEqual({
      prediction: 12, runId, round: 1, modelHash, ledgerIndex: 0, entryHash: entry.entryHash,
      // This request's row in the audit log, which the dashboard shows beside the answer.
      audit: { seq: c.audit.list().at(-1)!.seq, at: expect.any(String), inputHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    // Strings are parsed the same way a site's CSV cells are.
    expect((await post('/v1/predict', { modelHash, features: { x1: '-1', g: 'a' } })).json().prediction).toBe(-1);
  });

  it('POST /v1/predict names a missing or bad feature, never echoing its value', async () => {
    let res = await post('/v1/predict', { runId, features: { g: 'b' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'E_MISSING_FEATURE', details: { feature: 'x1' } });
    res = await post('/v1/predict', { runId, features: { x1: 4, g: 'secret-level' } });
    expect(res.json().error).toMatchObject({ code: 'E_BAD_FEATURE', details: { feature: 'g', problem: 'unknown-level' } });
    expect(res.body).not.toContain('secret-level');
    res = await post('/v1/predict', { runId, features: { x1: 1e9, g: 'a' } });
    expect(res.json().error.details).toEqual({ feature: 'x1', problem: 'out-of-range' });
  });

  it('POST /v1/predict: 404 without a model, 400 for a malformed body', async () => {
    expect((await post('/v1/predict', { modelHash: 'f'.repeat(64), features: {} })).json().error.code).toBe('E_NO_MODEL');
    expect((await post('/v1/predict', { runId: 'run-99999999', features: {} })).json().error.code).toBe('E_NOT_FOUND');
    expect((await post('/v1/predict', { features: 'x' })).json().error.code).toBe('E_BAD_REQUEST');
    expect((await post('/v1/predict', { features: { x1: { nested: 1 } } })).json().error.code).toBe('E_BAD_REQUEST');
  });
});

describe('predictions in the target unit, one by one and in batches', () => {
  let sqrtRun: string;
  beforeAll(() => {
    // Same weights, but the study models sqrt(y) standardised with mean 5, SD 2.
    const study = { ...TINY_STUDY, target: { ...TINY_STUDY.target, transform: 'sqrt' as const, min: 0, unit: 'mg/week' } };
    const config: RunConfig = { ...RUN_DEFAULTS, study };
    const run = c.store.createRun(config, hashConfig(config));
    sqrtRun = run.id;
    c.store.setPreprocessing(sqrtRun, { ...TINY_PREP, target: { mean: 5, sd: 2 } });
    const weights: Weights = [
      { name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([2, 3]) },
      { name: 'dense0/bias', shape: [1], data: new Float32Array([1.5]) },
    ];
    c.store.commitRound({
      runId: sqrtRun, round: 1, startedAt: new Date().toISOString(), modelHash: hashWeights(weights), weights, metrics: {}, sites: [], state: { progress: '{}', strategy: null }, bestRound: 1,
      entry: { parentModelHash: null, participants: [], configHash: run.configHash },
    });
  });

  it('back-transforms: a clinician sees mg/week, not the square root', async () => {
    // z = 2·0.5 + 0 + 1.5 = 2.5 → sqrt dose = 2.5·2 + 5 = 10 → 100 mg/week.
    const res = await post('/v1/predict', { runId: sqrtRun, features: { x1: 0.5, g: 'a' } });
    expect(res.json()).toMatchObject({ prediction: 100, unit: 'mg/week', round: 1 });
  });

  it('scores a batch with one model; a row that cannot be scored says why and the rest are scored', async () => {
    const res = await post('/v1/predict/batch', { runId: sqrtRun, rows: [{ x1: 0.5, g: 'a' }, { g: 'a' }, { x1: '1.5', g: 'b' }] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.modelHash).toBe(c.store.latestModelHash(sqrtRun)!.modelHash);
    expect(body.predictions).toEqual([
      { index: 0, prediction: 100, unit: 'mg/week' },
      { index: 1, error: { code: 'E_MISSING_FEATURE', message: 'column "x1": missing' } },
      // z = 3 + 3 + 1.5 = 7.5 → 7.5·2 + 5 = 20 → 400.
      { index: 2, prediction: 400, unit: 'mg/week' },
    ]);
    expect((await post('/v1/predict/batch', { runId: sqrtRun, rows: [] })).json().error.code).toBe('E_BAD_REQUEST');
  });
});
