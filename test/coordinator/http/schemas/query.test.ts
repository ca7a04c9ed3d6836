// Paged listings refuse unbounded or non-finite `from` and `limit` with a coded 400, and never
// pass them on to SQLite (where Infinity was a datatype mismatch and a 500).

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../../coordinator/app.js';
import { MAX_LIMIT } from '../../../../coordinator/http/schemas/query.js';
import { tempDir } from '../../../helpers/temp.js';

let c: Coordinator;
let auditor: { authorization: string };

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('query'), 'c.sqlite'), log: () => {} });
  auditor = { authorization: `Bearer ${c.tokens.create('auditor').token}` };
});
afterAll(async () => {
  await c.close();
});

const ROUTES = ['/v1/ledger', '/v1/ledger/endorsements', '/v1/audit/predictions'];
const BAD = [
  'limit=Infinity',
  'limit=-Infinity',
  `limit=${'9'.repeat(309)}`, // 309 digits: beyond the largest double
  `limit=${'9'.repeat(400)}`,
  `limit=${MAX_LIMIT + 1}`,
  'limit=0',
  'limit=1.5',
  'limit=NaN',
  'limit=',
  'from=Infinity',
  `from=${'9'.repeat(309)}`,
  'from=1e300',
  'from=-1',
  'colour=blue',
];

describe('query strings of paged listings', () => {
  // Named by their first 24 characters: a 309-digit number makes a poor test title.
  it.each(ROUTES.flatMap((r) => BAD.map((q) => [r, q.slice(0, 24), q] as const)))('%s?%s → 400 E_BAD_REQUEST', async (route, _name, query) => {
    const res = await c.app.inject({ url: `${route}?${query}`, headers: auditor });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('E_BAD_REQUEST');
    expect(res.json().error.message).toMatch(/querystring/);
  });

  it.each(ROUTES)('%s accepts the bounds themselves', async (route) => {
    for (const query of ['from=0&limit=1', `from=${Number.MAX_SAFE_INTEGER}&limit=${MAX_LIMIT}`, '']) {
      const res = await c.app.inject({ url: `${route}?${query}`, headers: auditor });
      expect(res.statusCode).toBe(200);
    }
  });
});
