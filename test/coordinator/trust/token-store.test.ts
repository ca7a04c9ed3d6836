// API tokens in a real SQLite file: only a domain-separated hash is stored; revocation takes
// effect at once; an admin's POST /v1/tokens hands out a token that works for its role only.

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { TOKEN_PATTERN } from '../../../coordinator/trust/token-store.js';
import { tempDir } from '../../helpers/temp.js';

let c: Coordinator;
let file: string;
let admin: { authorization: string };

beforeAll(async () => {
  file = join(tempDir('tokens'), 'c.sqlite');
  c = await buildCoordinator({ db: file, log: () => {} });
  admin = { authorization: `Bearer ${c.tokens.create('admin', 'ops').token}` };
});

afterAll(async () => {
  await c.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('token store', () => {
  it('stores only the domain-separated SHA-256 of a token, never the token', () => {
    const t = c.tokens.create('clinician', 'dr-jones');
    expect(t.token).toMatch(TOKEN_PATTERN);
    expect(t.id).toMatch(/^tok-[0-9a-f]{12}$/);
    const secret = t.token.slice(4);
    const reader = new Database(file, { readonly: true });
    const rows = reader.prepare('SELECT * FROM api_tokens').all() as Record<string, unknown>[];
    reader.close();
    const row = rows.find((r) => r.id === t.id)!;
    expect(row).toMatchObject({ role: 'clinician', label: 'dr-jones', revoked_at: null });
    expect(row.token_hash).toBe(createHash('sha256').update(`fedrx/api-token/v1\0${t.token}`).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(secret);
    // Nor anywhere in the database files (main file and write-ahead log).
    for (const f of [file, `${file}-wal`].filter(existsSync)) expect(readFileSync(f).includes(secret)).toBe(false);
  });

  it('finds a live token, and nothing for a revoked, unknown or malformed one', () => {
    const t = c.tokens.create('auditor');
    expect(c.tokens.find(t.token)).toEqual({ tokenId: t.id, role: 'auditor', label: null });
    expect(c.tokens.find(t.token + 'x')).toBeNull();
    expect(c.tokens.find('frx_' + 'B'.repeat(43))).toBeNull();
    expect(c.tokens.revoke(t.id)).toBe(true);
    expect(c.tokens.find(t.token)).toBeNull();
    expect(c.tokens.revoke('tok-000000000000')).toBe(false);
  });

  it('lists tokens without secrets or hashes', () => {
    const t = c.tokens.create('data-scientist', 'lab');
    const listed = c.tokens.list().find((x) => x.id === t.id)!;
    expect(Object.keys(listed).sort()).toEqual(['createdAt', 'id', 'label', 'revokedAt', 'role']);
    expect(JSON.stringify(c.tokens.list())).not.toMatch(/frx_|[0-9a-f]{64}/);
  });

  it('refuses a label with control characters or over 128 characters', () => {
    expect(() => c.tokens.create('auditor', 'a\nb')).toThrow(/label/);
    expect(() => c.tokens.create('auditor', 'x'.repeat(129))).toThrow(/label/);
  });
});

describe('token routes (admin)', () => {
  it('POST /v1/tokens returns a token that works for its role, and only for it', async () => {
    const res = await c.app.inject({ method: 'POST', url: '/v1/tokens', headers: admin, payload: { role: 'auditor', label: 'external audit' } });
    expect(res.statusCode).toBe(201);
    const created = res.json() as { id: string; role: string; label: string; token: string };
    expect(created).toMatchObject({ role: 'auditor', label: 'external audit' });
    expect(created.token).toMatch(TOKEN_PATTERN);
    expect((await c.app.inject({ url: '/v1/ledger/verify', headers: bearer(created.token) })).statusCode).toBe(200);
    expect((await c.app.inject({ method: 'POST', url: '/v1/predict', headers: bearer(created.token), payload: { features: {} } })).json().error.code).toBe('E_FORBIDDEN');
    // Admin is not a superuser: it manages tokens but reads no ledger.
    expect((await c.app.inject({ url: '/v1/ledger', headers: admin })).statusCode).toBe(403);
  });

  it('GET /v1/tokens lists them without secrets; DELETE revokes, and the token stops working at once', async () => {
    const created = (await c.app.inject({ method: 'POST', url: '/v1/tokens', headers: admin, payload: { role: 'data-scientist' } })).json() as { id: string; token: string };
    const list = (await c.app.inject({ url: '/v1/tokens', headers: admin })).json() as { tokens: { id: string; revokedAt: string | null }[] };
    expect(list.tokens.find((t) => t.id === created.id)).toMatchObject({ role: 'data-scientist', label: null, revokedAt: null });
    expect(JSON.stringify(list)).not.toContain(created.token);

    expect((await c.app.inject({ url: '/v1/runs', headers: bearer(created.token) })).statusCode).toBe(200);
    const del = await c.app.inject({ method: 'DELETE', url: `/v1/tokens/${created.id}`, headers: admin });
    expect(del.json()).toEqual({ id: created.id, revoked: true });
    const after = await c.app.inject({ url: '/v1/runs', headers: bearer(created.token) });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('E_UNAUTHENTICATED');
    const listed = (await c.app.inject({ url: '/v1/tokens', headers: admin })).json() as { tokens: { id: string; revokedAt: string | null }[] };
    expect(listed.tokens.find((t) => t.id === created.id)!.revokedAt).toEqual(expect.any(String));
  });

  it('DELETE of an unknown id is 404; bad bodies and ids are 400', async () => {
    const gone = await c.app.inject({ method: 'DELETE', url: '/v1/tokens/tok-000000000000', headers: admin });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('E_NOT_FOUND');
    expect((await c.app.inject({ method: 'DELETE', url: '/v1/tokens/../x', headers: admin })).statusCode).toBe(404);
    for (const payload of [{ role: 'root' }, { role: 'auditor', extra: 1 }, { role: 'auditor', label: '' }, {}]) {
      const res = await c.app.inject({ method: 'POST', url: '/v1/tokens', headers: admin, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('E_BAD_REQUEST');
    }
  });
});
