// Sign-in, the session cookie and CSRF on a real app (Fastify inject): the cookie's attributes,
// Bearer calls unchanged, every write from a session needing its CSRF token, sign-out, expiry,
// and a revoked token ending its sessions. Over TLS the cookie is Secure.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../../coordinator/app.js';
import { readFileSync } from 'node:fs';
import { tempDir } from '../../../helpers/temp.js';
import { makeTestCert } from '../../../helpers/tls-cert.js';

let c: Coordinator;
let scientist: { id: string; token: string };

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('routes-session'), 'c.sqlite'), log: () => {} });
  scientist = c.tokens.create('data-scientist', 'dr-lee');
});

afterAll(async () => {
  await c.close();
});

async function signIn(app: Coordinator['app'], token: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/session', payload: { token } });
  expect(res.statusCode, res.body).toBe(200);
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, csrf: res.json().csrfToken, setCookie };
}

describe('dashboard sessions', () => {
  it('signs in with an API token: an HttpOnly, SameSite=Strict cookie, and the role and CSRF token in the answer', async () => {
    const res = await c.app.inject({ method: 'POST', url: '/v1/session', payload: { token: scientist.token } });
    expect(res.json()).toMatchObject({ role: 'data-scientist', label: 'dr-lee', tokenId: scientist.id });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^fedrx_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure');
    // Neither the session id nor the API token is in the body.
    expect(res.body).not.toContain(setCookie.split(';')[0]!.split('=')[1]!);
    expect(res.body).not.toContain(scientist.token);
  });

  it('refuses a wrong or revoked token at sign-in with E_UNAUTHENTICATED, and a malformed body with E_BAD_REQUEST', async () => {
    const wrong = await c.app.inject({ method: 'POST', url: '/v1/session', payload: { token: 'frx_' + 'A'.repeat(43) } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('E_UNAUTHENTICATED');
    const gone = c.tokens.create('auditor');
    c.tokens.revoke(gone.id);
    expect((await c.app.inject({ method: 'POST', url: '/v1/session', payload: { token: gone.token } })).json().error.code).toBe('E_UNAUTHENTICATED');
    const long = await c.app.inject({ method: 'POST', url: '/v1/session', payload: { token: 'x'.repeat(300) } });
    expect(long.json().error.code).toBe('E_BAD_REQUEST');
  });

  it('takes sign-in only as JSON, which another site\'s form cannot send (no sign-in forged across sites)', async () => {
    const plain = await c.app.inject({ method: 'POST', url: '/v1/session', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ token: scientist.token }) });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error.code).toBe('E_BAD_REQUEST');
    const form = await c.app.inject({ method: 'POST', url: '/v1/session', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${scientist.token}` });
    expect(form.statusCode).toBe(415);
    expect(plain.headers['set-cookie']).toBeUndefined();
    expect(form.headers['set-cookie']).toBeUndefined();
  });

  it('lets the session read with its role, and write only with its CSRF token', async () => {
    const { cookie, csrf } = await signIn(c.app, scientist.token);
    const read = await c.app.inject({ url: '/v1/runs', headers: { cookie } });
    expect(read.statusCode).toBe(200);
    const forbidden = await c.app.inject({ url: '/v1/audit/predictions', headers: { cookie } });
    expect(forbidden.json().error.code).toBe('E_FORBIDDEN');

    const body = { study: 'synthetic-warfarin', rounds: 1 };
    const noCsrf = await c.app.inject({ method: 'POST', url: '/v1/runs', headers: { cookie }, payload: body });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('E_CSRF');
    const badCsrf = await c.app.inject({ method: 'POST', url: '/v1/runs', headers: { cookie, 'x-csrf-token': csrf.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')) }, payload: body });
    expect(badCsrf.json().error.code).toBe('E_CSRF');
    expect(c.store.listRuns(10)).toHaveLength(0);
    const ok = await c.app.inject({ method: 'POST', url: '/v1/runs', headers: { cookie, 'x-csrf-token': csrf }, payload: body });
    expect(ok.statusCode, ok.body).toBe(201);
    // The CLI's Bearer calls need no CSRF token (no ambient credential to forge).
    const bearer = await c.app.inject({ method: 'POST', url: `/v1/runs/${ok.json().id}/cancel`, headers: { authorization: `Bearer ${scientist.token}` } });
    expect([200, 202]).toContain(bearer.statusCode);
  });

  it('signs out: the cookie is cleared and the old session id is refused with E_SESSION_EXPIRED', async () => {
    const { cookie, csrf } = await signIn(c.app, scientist.token);
    const noCsrf = await c.app.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie } });
    expect(noCsrf.json().error.code).toBe('E_CSRF');
    const out = await c.app.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.json()).toEqual({ signedOut: true });
    expect(String(out.headers['set-cookie'])).toMatch(/^fedrx_session=; /);
    const after = await c.app.inject({ url: '/v1/runs', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('E_SESSION_EXPIRED');
  });

  it('ends the sessions of a revoked token', async () => {
    const t = c.tokens.create('auditor', 'temp');
    const { cookie } = await signIn(c.app, t.token);
    expect((await c.app.inject({ url: '/v1/ledger', headers: { cookie } })).statusCode).toBe(200);
    c.tokens.revoke(t.id);
    const res = await c.app.inject({ url: '/v1/ledger', headers: { cookie } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('E_UNAUTHENTICATED');
  });

  it('expires a session after its time', async () => {
    const short = await buildCoordinator({ db: join(tempDir('routes-session-ttl'), 'c.sqlite'), log: () => {}, sessionTtlMs: 1 });
    try {
      const { cookie } = await signIn(short.app, short.tokens.create('auditor').token);
      await new Promise((r) => setTimeout(r, 20));
      const res = await short.app.inject({ url: '/v1/ledger', headers: { cookie } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('E_SESSION_EXPIRED');
    } finally {
      await short.close();
    }
  });

  it('marks the cookie Secure under TLS', async () => {
    const dir = tempDir('routes-session-tls');
    const cert = await makeTestCert(join(dir, 'tls'));
    const tls = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {}, tls: { cert: readFileSync(cert.certFile, 'utf8'), key: readFileSync(cert.keyFile, 'utf8') } });
    try {
      const { setCookie } = await signIn(tls.app, tls.tokens.create('auditor').token);
      expect(setCookie).toContain('Secure');
    } finally {
      await tls.close();
    }
  });
});
