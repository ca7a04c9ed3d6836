// Access control on a real app and SQLite file: every declared route × every kind of caller.
// Public routes never refuse; others answer 401 without a valid token, 403 to a role they do not
// accept, and neither to the roles they do. The declared table is pinned route by route.

import Fastify from 'fastify';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { declaredRoutes, installAuth, type DeclaredRoute } from '../../../coordinator/trust/auth.js';
import { openDb } from '../../../coordinator/store/db.js';
import { ROLES, type Role } from '../../../shared/roles.js';
import { TokenStore } from '../../../coordinator/trust/token-store.js';
import { tempDir } from '../../helpers/temp.js';
import { commitTinyModel } from '../../helpers/tiny-model.js';

// The separation of duties the issue asks for; a changed role list must fail here.
const EXPECTED: Record<string, 'public' | Role[]> = {
  'GET /healthz': 'public',
  'GET /': 'public',
  'GET /docs': 'public',
  'GET /docs/json': 'public',
  'GET /dashboard/:file': 'public',
  'GET /vendor/:file': 'public',
  'POST /v1/session': 'public',
  'GET /v1/session': ['admin', 'auditor', 'clinician', 'data-scientist'],
  'DELETE /v1/session': ['admin', 'auditor', 'clinician', 'data-scientist'],
  'GET /v1/runs/:id/events': ['admin', 'auditor', 'data-scientist'],
  'POST /v1/ledger/diff': ['auditor', 'data-scientist'],
  'GET /v1/model/form': ['clinician'],
  'POST /v1/runs': ['data-scientist'],
  'GET /v1/runs': ['admin', 'auditor', 'data-scientist'],
  'GET /v1/runs/:id': ['admin', 'auditor', 'data-scientist'],
  'POST /v1/runs/:id/cancel': ['admin', 'data-scientist'],
  'POST /v1/runs/:id/relay/statistics': ['data-scientist'],
  'POST /v1/runs/:id/relay/train': ['data-scientist'],
  'POST /v1/runs/:id/relay/evaluate': ['data-scientist'],
  'POST /v1/runs/:id/relay/end': ['data-scientist'],
  'GET /v1/sites': ['admin', 'auditor', 'data-scientist'],
  'POST /v1/sites': ['admin'],
  'DELETE /v1/sites/:id': ['admin'],
  'GET /v1/ledger': ['auditor', 'data-scientist'],
  'GET /v1/ledger/verify': ['auditor', 'data-scientist'],
  'GET /v1/ledger/endorsements': ['auditor', 'data-scientist'],
  'POST /v1/predict': ['clinician'],
  'POST /v1/predict/batch': ['clinician'],
  'POST /v1/predict/table': ['clinician'],
  'GET /v1/model/inputs': ['clinician'],
  'GET /v1/models/:modelHash/card': ['auditor', 'clinician'],
  'POST /v1/tokens': ['admin'],
  'GET /v1/tokens': ['admin'],
  'DELETE /v1/tokens/:id': ['admin'],
  'GET /v1/audit/predictions': ['auditor'],
  'GET /v1/privacy': ['admin', 'auditor'],
  'PUT /v1/privacy/budgets/:siteId': ['admin'],
};

let c: Coordinator;
let readOnly: Coordinator;
const token = {} as Record<Role, string>;
let revoked: string;
const UNKNOWN = 'frx_' + 'A'.repeat(43);

beforeAll(async () => {
  const file = join(tempDir('auth'), 'c.sqlite');
  c = await buildCoordinator({ db: file, log: () => {} });
  commitTinyModel(c.store);
  for (const role of ROLES) token[role] = c.tokens.create(role, `test ${role}`).token;
  const gone = c.tokens.create('auditor', 'revoked');
  c.tokens.revoke(gone.id);
  revoked = gone.token;
  // A second, read-only coordinator on the same file: its refusing stubs must declare roles too.
  readOnly = await buildCoordinator({ db: file, log: () => {}, readOnly: true });
});

afterAll(async () => {
  await readOnly.close();
  await c.close();
});

const key = (r: DeclaredRoute): string => `${r.method} ${r.url}`;
const sorted = (roles: DeclaredRoute['roles']): 'public' | Role[] => (roles === 'public' ? roles : [...roles].sort());

type Caller = { name: string; headers: Record<string, string>; role?: Role };
const callers = (): Caller[] => [
  { name: 'no token', headers: {} },
  { name: 'malformed: no scheme', headers: { authorization: token.auditor } },
  { name: 'malformed: Basic', headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } },
  { name: 'malformed: empty bearer', headers: { authorization: 'Bearer ' } },
  { name: 'malformed: oversized', headers: { authorization: `Bearer frx_${'A'.repeat(5000)}` } },
  { name: 'unknown token', headers: { authorization: `Bearer ${UNKNOWN}` } },
  { name: 'revoked token', headers: { authorization: `Bearer ${revoked}` } },
  ...ROLES.map((role) => ({ name: role, role, headers: { authorization: `Bearer ${token[role]}` } })),
];

// Path parameters get a dummy that fails their schema: no route does anything on the walk.
const concrete = (url: string): string => url.replace(/:[A-Za-z]+/g, 'dummy');

async function walk(app: Coordinator['app']): Promise<number> {
  let checked = 0;
  for (const route of declaredRoutes(app)) {
    for (const caller of callers()) {
      const res = await app.inject({ method: route.method as 'GET', url: concrete(route.url), headers: caller.headers });
      const what = `${key(route)} by ${caller.name}: ${res.statusCode} ${res.body}`;
      // The dashboard's pages and scripts are not JSON.
      const json = route.method !== 'HEAD' && String(res.headers['content-type']).startsWith('application/json');
      const code = json ? (res.json() as { error?: { code: string } }).error?.code : undefined;
      if (route.roles === 'public') {
        expect(res.statusCode, what).not.toBe(401);
        expect(res.statusCode, what).not.toBe(403);
      } else if (caller.role === undefined) {
        expect(res.statusCode, what).toBe(401);
        if (code !== undefined) expect(code, what).toBe('E_UNAUTHENTICATED');
        expect(res.headers['www-authenticate'], what).toBe('Bearer realm="fedrx"');
      } else if (route.roles.includes(caller.role)) {
        expect([401, 403], what).not.toContain(res.statusCode);
        // Answered by the route itself: a 4xx for the dummy input, or E_READ_ONLY from a stub, never a crash.
        expect(res.statusCode, what).not.toBe(500);
      } else {
        expect(res.statusCode, what).toBe(403);
        if (code !== undefined) {
          expect(code, what).toBe('E_FORBIDDEN');
          expect(res.json().error.message).toContain(`role ${caller.role} may not call ${route.method} ${route.url}`);
          expect(res.json().error.details).toEqual({ role: caller.role, accepted: [...route.roles] });
        }
      }
      checked++;
    }
  }
  return checked;
}

describe('route × role', () => {
  it('declares exactly the agreed roles on every route (HEAD mirrors GET)', () => {
    const routes = declaredRoutes(c.app);
    const table = Object.fromEntries(routes.filter((r) => r.method !== 'HEAD').map((r) => [key(r), sorted(r.roles)]));
    expect(table).toEqual(EXPECTED);
    const gets = new Map(routes.filter((r) => r.method === 'GET').map((r) => [r.url, r.roles]));
    for (const head of routes.filter((r) => r.method === 'HEAD')) expect(head.roles, head.url).toEqual(gets.get(head.url));
  });

  it('walks every declared route with every kind of caller', async () => {
    const routes = declaredRoutes(c.app);
    const ledgerBefore = c.store.ledger.head();
    const sitesBefore = c.store.sites.list();
    expect(await walk(c.app)).toBe(routes.length * callers().length);
    expect(routes.length).toBeGreaterThan(Object.keys(EXPECTED).length);
    // No refused call wrote anything: the ledger and the site register are as they were.
    expect(c.store.ledger.head()).toEqual(ledgerBefore);
    expect(c.store.sites.list()).toEqual(sitesBefore);
  });

  it('read-only mode: every route, stubs included, declares the same roles as the live route', async () => {
    const live = new Map(declaredRoutes(c.app).map((r) => [key(r), r.roles]));
    const ro = declaredRoutes(readOnly.app);
    expect(ro.map(key)).toEqual(expect.arrayContaining(['GET /v1/runs/:id', 'POST /v1/runs', 'POST /v1/predict', 'GET /v1/audit/predictions']));
    for (const r of ro) expect(r.roles, key(r)).toEqual(live.get(key(r)));
    await walk(readOnly.app);
  });

  it('keeps Fastify\'s 404 for an unknown route, with or without a token', async () => {
    for (const headers of [{}, { authorization: `Bearer ${token.admin}` }]) {
      const res = await c.app.inject({ url: '/v1/nothing-here', headers });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('E_NOT_FOUND');
    }
  });

  it('accepts the scheme in any case and attaches the principal', async () => {
    const res = await c.app.inject({ url: '/v1/ledger/verify', headers: { authorization: `bearer ${token.auditor}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, length: 1 });
  });
});

describe('fail closed', () => {
  const bare = () => {
    const app = Fastify();
    installAuth(app, new TokenStore(openDb(':memory:')));
    return app;
  };

  it('refuses to build a route that declares no roles', () => {
    expect(() => bare().get('/x', async () => 1)).toThrow(/GET \/x must declare config\.roles/);
    expect(() => bare().post('/x', { config: {} }, async () => 1)).toThrow(/must declare config\.roles/);
  });

  it('refuses an empty or unknown role list', () => {
    expect(() => bare().get('/x', { config: { roles: [] } }, async () => 1)).toThrow(/must declare config\.roles/);
    // A typo in plain JavaScript, which the types would catch in TypeScript.
    const roles = ['root'] as unknown as Role[];
    expect(() => bare().get('/x', { config: { roles } }, async () => 1)).toThrow(/must declare config\.roles/);
  });

  it('records a route with several methods once per method', () => {
    const app = bare();
    app.route({ method: ['GET', 'POST'], url: '/both', config: { roles: ['auditor'] }, exposeHeadRoute: false, handler: async () => 1 });
    expect(declaredRoutes(app)).toEqual([
      { method: 'GET', url: '/both', roles: ['auditor'] },
      { method: 'POST', url: '/both', roles: ['auditor'] },
    ]);
  });
});
