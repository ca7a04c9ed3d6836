// The clinician's routes on a real app and SQLite file (Fastify inject): the model's input
// columns, tables of rows as arrays, per-row errors, class probabilities, and the audit row of
// what was received.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../../coordinator/app.js';
import { inputHmac } from '../../../../coordinator/trust/audit-log.js';
import type { Study } from '../../../../shared/study.js';
import { commitLinearModel } from '../../../helpers/tiny-model.js';
import { tempDir } from '../../../helpers/temp.js';
import { TINY_PREP, TINY_STUDY } from '../../../helpers/tiny-study.js';

const AUDIT_KEY = new Uint8Array(32).fill(7);
let c: Coordinator;
let headers: { authorization: string };
/** y = 2·x1 + 3·[g = b] + 1. */
let reg: { runId: string; modelHash: string };
/** The logit of "yes" is x1 + 3·[g = b] + 1. */
let cls: { runId: string; modelHash: string };

const CLASS_STUDY: Study = { ...TINY_STUDY, name: 'tiny-class', task: 'classification', target: { name: 'y', classes: ['no', 'yes'] } };

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('routes-predict'), 'c.sqlite'), log: () => {}, auditKey: AUDIT_KEY });
  headers = { authorization: `Bearer ${c.tokens.create('clinician').token}` };
  reg = commitLinearModel(c.store, { ...TINY_STUDY, idColumn: 'mrn' }, TINY_PREP, [2, 3], [1]);
  cls = commitLinearModel(c.store, CLASS_STUDY, { rows: 10, numeric: { x1: { mean: 0, sd: 1 } } }, [1, 3], [1]);
});

afterAll(async () => {
  await c.close();
});

const post = (url: string, payload: object) => c.app.inject({ method: 'POST', url, payload, headers });
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

describe('GET /v1/model/inputs', () => {
  it('names the columns to send, the id column the client keeps, and what the model answers', async () => {
    const res = await c.app.inject({ url: `/v1/model/inputs?runId=${reg.runId}`, headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ runId: reg.runId, modelHash: reg.modelHash, columns: ['x1', 'g'], idColumn: 'mrn', task: 'regression' });
    const byHash = await c.app.inject({ url: `/v1/model/inputs?modelHash=${cls.modelHash}`, headers });
    expect(byHash.json()).toMatchObject({ runId: cls.runId, columns: ['x1', 'g'], task: 'classification', classes: ['no', 'yes'] });
    // Newest model by default; bad queries are coded.
    expect((await c.app.inject({ url: '/v1/model/inputs', headers })).json().modelHash).toBe(cls.modelHash);
    expect((await c.app.inject({ url: '/v1/model/inputs?runId=nope', headers })).json().error.code).toBe('E_BAD_REQUEST');
    expect((await c.app.inject({ url: '/v1/model/inputs?colour=blue', headers })).json().error.code).toBe('E_BAD_REQUEST');
    expect((await c.app.inject({ url: '/v1/model/inputs?runId=run-99999999', headers })).json().error.code).toBe('E_NOT_FOUND');
  });

  it('names a feature-group study\'s columns as fixed at round 0, in input order', async () => {
    const study: Study = { ...TINY_STUDY, name: 'tiny-groups', groups: [{ kind: 'numeric', match: '^expr_', missing: 'mean' }] };
    const prep = { ...TINY_PREP, numeric: { ...TINY_PREP.numeric, expr_b: { mean: 0, sd: 1 }, expr_a: { mean: 0, sd: 1 } }, inputs: { groups: [['expr_b', 'expr_a']], dropped: [] } };
    const m = commitLinearModel(c.store, study, prep, [2, 3, 0, 1], [1]);
    const res = await c.app.inject({ url: `/v1/model/inputs?modelHash=${m.modelHash}`, headers });
    expect(res.json().columns).toEqual(['x1', 'g', 'expr_b', 'expr_a']);
    // A table that leaves out a group's column is refused naming it.
    const lacking = await post('/v1/predict/table', { modelHash: m.modelHash, columns: ['x1', 'g', 'expr_b'], rows: [[1, 'a', 0]] });
    expect(lacking.json().error).toMatchObject({ code: 'E_MISSING_FEATURE', details: { missing: ['expr_a'] } });
    // 2·1 + 3·0 + 0·0.5 + 1·2 + 1 = 5.
    const ok = await post('/v1/predict/table', { modelHash: m.modelHash, columns: ['expr_a', 'expr_b', 'g', 'x1'], rows: [[2, 0.5, 'a', 1]] });
    expect(ok.json().predictions).toEqual([{ index: 0, prediction: 5 }]);
  });

  it('is for clinicians only', async () => {
    const ds = { authorization: `Bearer ${c.tokens.create('data-scientist').token}` };
    expect((await c.app.inject({ url: '/v1/model/inputs', headers: ds })).json().error.code).toBe('E_FORBIDDEN');
  });
});

describe('POST /v1/predict/table', () => {
  it('scores rows given as arrays; a short row, a long cell or a bad value fails only its own row', async () => {
    const body = {
      runId: reg.runId,
      columns: ['g', 'x1', 'unused'],
      rows: [
        ['b', 4, 'anything'],
        ['a', 1],
        ['a', 'x'.repeat(300), null],
        ['c', 1, null],
        ['a', '-1', 'z'.repeat(5000)], // a long cell the model does not read
      ],
    };
    const res = await post('/v1/predict/table', body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ runId: reg.runId, modelHash: reg.modelHash });
    expect(res.json().predictions).toEqual([
      { index: 0, prediction: 12 },
      { index: 1, error: { code: 'E_MALFORMED_ROW', message: 'row 2 has 2 cells for 3 columns' } },
      { index: 2, error: { code: 'E_BAD_FEATURE', message: 'column "x1": longer than 256 characters' } },
      { index: 3, error: { code: 'E_BAD_FEATURE', message: 'column "g": unknown level' } },
      { index: 4, prediction: -1 },
    ]);
    // The audit row holds the keyed hash of the table exactly as sent, and its row count.
    const audit = c.audit.list().at(-1)!;
    expect(audit).toMatchObject({ route: '/v1/predict/table', rows: 5, modelHash: reg.modelHash });
    expect(audit.inputHash).toBe(inputHmac(AUDIT_KEY, { columns: body.columns, rows: body.rows }));
  });

  it('refuses a table that lacks an input column, naming it, and scores no row with a guess', async () => {
    const res = await post('/v1/predict/table', { runId: reg.runId, columns: ['g', 'notes'], rows: [['a', 'n']] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'E_MISSING_FEATURE', message: 'the column list lacks 1 input column(s) of the model: "x1"', details: { missing: ['x1'] } });
    const twice = await post('/v1/predict/table', { runId: reg.runId, columns: ['g', 'x1', 'g'], rows: [['a', 1, 'a']] });
    expect(twice.json().error).toMatchObject({ code: 'E_BAD_REQUEST', message: 'the column list names "g" twice' });
    expect((await post('/v1/predict/table', { runId: reg.runId, columns: ['x1', 'g'], rows: [] })).json().error.code).toBe('E_BAD_REQUEST');
    expect((await post('/v1/predict/table', { runId: reg.runId, columns: ['x1', 'g'], rows: [[{ a: 1 }, 'a']] })).json().error.code).toBe('E_BAD_REQUEST');
  });

  it('answers a classification with the class and the probability of each class', async () => {
    const res = await post('/v1/predict/table', { modelHash: cls.modelHash, columns: ['x1', 'g'], rows: [[0, 'a'], [-2, 'a']] });
    const [yes, no] = res.json().predictions;
    // Logit 0 + 1 = 1 → P(yes) = σ(1); logit −2 + 1 = −1 → P(yes) = σ(−1).
    expect(yes).toEqual({ index: 0, prediction: 'yes', probabilities: { no: expect.closeTo(1 - sigmoid(1), 6), yes: expect.closeTo(sigmoid(1), 6) } });
    expect(no).toEqual({ index: 1, prediction: 'no', probabilities: { no: expect.closeTo(1 - sigmoid(-1), 6), yes: expect.closeTo(sigmoid(-1), 6) } });
  });
});

describe('bodies ajv would coerce', () => {
  it('are refused, so the audit hash is always over the body as sent', async () => {
    const before = c.audit.list().length;
    for (const [url, body] of [
      ['/v1/predict/table', { runId: reg.runId, columns: ['x1', 5], rows: [[1, 'a']] }], // 5 would become "5"
      ['/v1/predict/table', { runId: reg.runId, columns: ['x1', 'g'], rows: [[[4], 'a']] }], // [4] would become 4
      ['/v1/predict/table', { runId: reg.runId, columns: ['x1', 'g'], rows: [4, 'a'] }], // 4 would become [4]
      ['/v1/predict/batch', { runId: reg.runId, rows: { x1: 4, g: 'a' } }], // would become a list of one
      ['/v1/predict', { runId: reg.runId, features: { x1: [4], g: 'a' } }],
    ] as const) {
      const res = await post(url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('E_BAD_REQUEST');
    }
    expect(c.audit.list()).toHaveLength(before);
  });
});

describe('wide rows', () => {
  it('takes rows of 50,000 features, as arrays and as objects', async () => {
    const width = 50_000;
    const names = Array.from({ length: width }, (_, i) => `g${i}`);
    const study: Study = { ...TINY_STUDY, name: 'wide', features: names.map((name) => ({ kind: 'numeric' as const, name, min: -10, max: 10 })) };
    const prep = { rows: 10, numeric: Object.fromEntries(names.map((n) => [n, { mean: 0, sd: 1 }])), target: { mean: 0, sd: 1 } };
    // Weight 1 on feature i = (i mod 2): the prediction is the sum of the odd features' values, plus 0.5.
    const wide = commitLinearModel(c.store, study, prep, names.map((_, i) => i % 2), [0.5]);
    const row = names.map((_, i) => (i % 4 === 1 ? 1 : 0)); // 12,500 odd features set to 1
    const table = await post('/v1/predict/table', { modelHash: wide.modelHash, columns: names, rows: [row, row.slice(1)] });
    expect(table.statusCode).toBe(200);
    expect(table.json().predictions).toEqual([
      { index: 0, prediction: 12_500.5 },
      { index: 1, error: { code: 'E_MALFORMED_ROW', message: `row 2 has ${width - 1} cells for ${width} columns` } },
    ]);
    const objects = await post('/v1/predict/batch', { modelHash: wide.modelHash, rows: [Object.fromEntries(names.map((n, i) => [n, row[i]!]))] });
    expect(objects.statusCode).toBe(200);
    expect(objects.json().predictions).toEqual([{ index: 0, prediction: 12_500.5 }]);
  });
});

describe('calibrated intervals and sets', () => {
  it('a regression answer carries its interval in the unit and the quantile\'s ledger entry; a classification answer its prediction set', async () => {
    const conformal = { kind: 'interval' as const, coverage: 0.9, quantile: 0.5, calibrationRows: 40, sites: 4 };
    const m = commitLinearModel(c.store, { ...TINY_STUDY, name: 'tiny-conformal' }, TINY_PREP, [2, 3], [1.5], { conformal });
    // y = 2·1 + 0 + 1.5 = 3.5; identity target, SD 1: [3, 4].
    const one = (await post('/v1/predict', { modelHash: m.modelHash, features: { x1: 1, g: 'a' } })).json();
    expect(one).toMatchObject({ prediction: 3.5, interval: { lower: 3, upper: 4, coverage: 0.9 }, ledgerIndex: m.ledgerIndex, conformal });
    const table = (await post('/v1/predict/table', { modelHash: m.modelHash, columns: ['x1', 'g'], rows: [[1, 'b'], [1, 'c']] })).json();
    expect(table.conformal).toEqual(conformal);
    expect(table.predictions[0]).toEqual({ index: 0, prediction: 6.5, interval: { lower: 6, upper: 7, coverage: 0.9 } });
    expect(table.predictions[1].error.code).toBe('E_BAD_FEATURE');

    const setRecord = { kind: 'set' as const, coverage: 0.8, quantile: 0.3, calibrationRows: 40, sites: 4 };
    const k = commitLinearModel(c.store, { ...CLASS_STUDY, name: 'tiny-class-conformal' }, { rows: 10, numeric: { x1: { mean: 0, sd: 1 } } }, [1, 3], [2], { conformal: setRecord });
    // logit 1·(−2) + 0 + 2 = 0: p = 0.5 each, 1 − p = 0.5 > 0.3: an empty set (no class is likely enough at this quantile);
    // logit 1 + 3 + 2 = 6: p(yes) ≈ 0.998: {yes}.
    const rows = (await post('/v1/predict/batch', { modelHash: k.modelHash, rows: [{ x1: -2, g: 'a' }, { x1: 1, g: 'b' }] })).json().predictions;
    expect(rows.map((r: { set: string[]; coverage: number }) => [r.set, r.coverage])).toEqual([[[], 0.8], [['yes'], 0.8]]);
  });
});
