// The OpenAPI description at /docs/json covers every API route with its roles and a response
// schema, and real answers of a coordinator with a committed model fit those schemas. The
// dashboard's files are served from the package with a strict Content-Security-Policy.

import { Value } from '@sinclair/typebox/value';
import type { InjectOptions } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { declaredRoutes } from '../../../coordinator/trust/auth.js';
import * as R from '../../../coordinator/http/schemas/responses.js';
import type { Role } from '../../../shared/roles.js';
import { commitTinyModel } from '../../helpers/tiny-model.js';
import { tempDir } from '../../helpers/temp.js';

let c: Coordinator;
let model: ReturnType<typeof commitTinyModel>;
const auth = {} as Record<Role, { authorization: string }>;

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('openapi'), 'c.sqlite'), log: () => {} });
  model = commitTinyModel(c.store);
  for (const role of ['admin', 'data-scientist', 'clinician', 'auditor'] as const) auth[role] = { authorization: `Bearer ${c.tokens.create(role, role).token}` };
});

afterAll(async () => {
  await c.close();
});

const DASHBOARD = new Set(['/', '/docs', '/docs/json', '/dashboard/:file', '/vendor/:file']);

describe('OpenAPI at /docs/json', () => {
  it('describes every API route with its roles and a response schema', async () => {
    const spec = (await c.app.inject({ url: '/docs/json' })).json();
    expect(spec.openapi).toBe('3.0.3');
    const routes = declaredRoutes(c.app).filter((r) => r.method !== 'HEAD' && !DASHBOARD.has(r.url));
    expect(routes.length).toBeGreaterThanOrEqual(25);
    for (const r of routes) {
      const op = spec.paths[r.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url}`).toBeDefined();
      expect(op.description, `${r.method} ${r.url}`).toContain(r.roles === 'public' ? 'public' : `roles: ${r.roles.join(', ')}`);
      const ok = Object.keys(op.responses ?? {}).filter((s) => s.startsWith('2'));
      if (r.url !== '/v1/runs/:id/events') expect(ok, `${r.method} ${r.url} has a 2xx response schema`).not.toEqual([]);
    }
    for (const hidden of DASHBOARD) expect(spec.paths[hidden]).toBeUndefined();
  });

  it('real answers fit their response schemas', async () => {
    const check = async (schema: TSchema, req: InjectOptions, status = 200): Promise<void> => {
      const res = await c.app.inject(req);
      expect(res.statusCode, `${JSON.stringify(req)}: ${res.body}`).toBe(status);
      const errors = [...Value.Errors(schema, res.json())].map((e) => `${e.path}: ${e.message}`);
      expect(errors, JSON.stringify(req)).toEqual([]);
    };
    await check(R.HealthReply, { url: '/healthz' });
    await check(R.RunListReply, { url: '/v1/runs', headers: auth.auditor });
    await check(R.RunReply, { url: `/v1/runs/${model.runId}`, headers: auth.auditor });
    await check(R.SiteListReply, { url: '/v1/sites', headers: auth.admin });
    await check(R.LedgerReply, { url: '/v1/ledger', headers: auth.auditor });
    await check(R.LedgerVerifyReply, { url: '/v1/ledger/verify', headers: auth.auditor });
    await check(R.EndorsementsReply, { url: '/v1/ledger/endorsements', headers: auth.auditor });
    await check(R.TokenListReply, { url: '/v1/tokens', headers: auth.admin });
    await check(R.TokenReply, { method: 'POST', url: '/v1/tokens', headers: auth.admin, payload: { role: 'auditor' } }, 201);
    await check(R.PredictReply, { method: 'POST', url: '/v1/predict', headers: auth.clinician, payload: { features: { x1: 2, g: 'b' } } });
    await check(R.PredictManyReply, { method: 'POST', url: '/v1/predict/table', headers: auth.clinician, payload: { columns: ['x1', 'g'], rows: [[1, 'a']] } });
    await check(R.ModelInputsReply, { url: '/v1/model/inputs', headers: auth.clinician });
    await check(R.ModelFormReply, { url: '/v1/model/form', headers: auth.clinician });
    await check(R.AuditReply, { url: '/v1/audit/predictions', headers: auth.auditor });
    const entries = (await c.app.inject({ url: '/v1/ledger', headers: auth.auditor })).json().entries;
    await check(R.LedgerDiffReply, { method: 'POST', url: '/v1/ledger/diff', headers: auth.auditor, payload: { entries } });
    await check(R.ErrorReply, { url: '/v1/runs', headers: auth.clinician }, 403);
  });
});

describe('answers the dashboard relies on', () => {
  it('a prediction carries its own audit row', async () => {
    const res = await c.app.inject({ method: 'POST', url: '/v1/predict', headers: auth.clinician, payload: { features: { x1: 1, g: 'a' } } });
    const row = (await c.app.inject({ url: '/v1/audit/predictions', headers: auth.auditor })).json().entries.at(-1);
    expect(res.json()).toMatchObject({ prediction: 3, ledgerIndex: model.ledgerIndex, audit: { seq: row.seq, at: row.at, inputHash: row.inputHash } });
  });

  it('the form describes the served model\'s inputs from its study', async () => {
    const form = (await c.app.inject({ url: '/v1/model/form', headers: auth.clinician })).json();
    expect(form).toMatchObject({ modelHash: model.modelHash, study: 'tiny', target: { name: 'y' }, columns: ['x1', 'g'] });
    expect(form.fields).toEqual([
      { column: 'x1', feature: 'x1', kind: 'numeric', min: -100, max: 100, required: true },
      { column: 'g', feature: 'g', kind: 'categorical', levels: ['a', 'b'], required: true },
    ]);
  });

  it('a replica that differs is diffed field by field; one of the wrong shape is refused', async () => {
    const entries = (await c.app.inject({ url: '/v1/ledger', headers: auth.auditor })).json().entries;
    entries[0].metrics.sites = 7;
    const diff = (await c.app.inject({ method: 'POST', url: '/v1/ledger/diff', headers: auth.auditor, payload: { entries } })).json();
    expect(diff).toMatchObject({ consistent: false, commonPrefix: 0, firstDifference: { index: 0, fields: [{ field: 'metrics.sites', left: '7', right: '1' }] } });
    const bad = await c.app.inject({ method: 'POST', url: '/v1/ledger/diff', headers: auth.auditor, payload: { entries: [{ index: 'x' }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('E_BAD_REQUEST');
  });
});

describe('dashboard files', () => {
  it('serves the page with a CSP allowing scripts from itself and its own import map only', async () => {
    const res = await c.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(res.body)![1]!;
    const hash = createHash('sha256').update(map).digest('base64');
    expect(res.headers['content-security-policy']).toContain(`script-src 'self' 'sha256-${hash}';`);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    // Every library the import map names is served from the package.
    for (const url of Object.values(JSON.parse(map).imports) as string[]) {
      const lib = await c.app.inject({ url });
      expect(lib.statusCode, url).toBe(200);
      expect(lib.headers['content-type'], url).toMatch(/javascript/);
    }
    expect((await c.app.inject({ url: '/dashboard/app.js' })).statusCode).toBe(200);
    expect((await c.app.inject({ url: '/vendor/uplot.css' })).headers['content-type']).toMatch(/text\/css/);
  });

  it('serves nothing outside its files', async () => {
    for (const url of ['/vendor/package.json', '/vendor/..%2Fpackage.json', '/dashboard/..%2F..%2Fpackage.json', '/dashboard/csv.d.ts', '/dashboard/.hidden.js']) {
      const res = await c.app.inject({ url });
      expect([400, 404], `${url}: ${res.body}`).toContain(res.statusCode);
    }
  });
});
