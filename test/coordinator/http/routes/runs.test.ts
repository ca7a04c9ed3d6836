// The run routes on a real app and SQLite file (Fastify inject): the run list, and cancelling a
// queued run (at once), a running one (asked to stop) and a finished one (409 E_RUN_FINISHED).
// Runs are made straight through the store; the runner is never started, so nothing moves them.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../../coordinator/app.js';
import type { Role } from '../../../../shared/roles.js';
import { hashConfig } from '../../../../shared/ledger.js';
import { RUN_DEFAULTS, type RunConfig } from '../../../../coordinator/run-config-schema.js';
import { commitTinyModel } from '../../../helpers/tiny-model.js';
import { tempDir } from '../../../helpers/temp.js';
import { TINY_STUDY } from '../../../helpers/tiny-study.js';

const dir = tempDir('routes-runs');
let c: Coordinator;
const auth = {} as Record<Role, { authorization: string }>;
const LABEL = { admin: 'ops', 'data-scientist': 'dr-lee', clinician: 'dr-jones', auditor: 'audit' } as const;

beforeAll(async () => {
  c = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {} });
  for (const role of ['admin', 'data-scientist', 'clinician', 'auditor'] as const) auth[role] = { authorization: `Bearer ${c.tokens.create(role, LABEL[role]).token}` };
});

afterAll(async () => {
  await c.close();
});

const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY, strategy: 'fedadam', rounds: 12 };
const queuedRun = (): string => c.store.createRun(config, hashConfig(config)).id;
const cancel = (id: string, role: Role = 'data-scientist') => c.app.inject({ method: 'POST', url: `/v1/runs/${id}/cancel`, headers: auth[role] });
const tokenId = (role: Role): string => c.tokens.list().find((t) => t.role === role)!.id;

describe('POST /v1/runs/:id/cancel', () => {
  it('cancels a queued run at once (200), naming who asked', async () => {
    const id = queuedRun();
    const res = await cancel(id);
    expect(res.statusCode).toBe(200);
    const by = `data-scientist dr-lee (${tokenId('data-scientist')})`;
    expect(res.json()).toMatchObject({ id, status: 'cancelled', stopReason: `cancelled by ${by} before it started`, cancelRequestedBy: by });
    expect(c.store.getRun(id)!.status).toBe('cancelled');
  });

  it('asks a running run to stop (202): it stays running until the runner ends it, and asking again changes nothing', async () => {
    const id = queuedRun();
    c.store.markRunning(id);
    const res = await cancel(id, 'admin');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id, status: 'running', cancelRequestedBy: `admin ops (${tokenId('admin')})` });
    expect(c.store.isCancelRequested(id)).toBe(true);
    const again = await cancel(id);
    expect([again.statusCode, again.json().cancelRequestedBy]).toEqual([202, `admin ops (${tokenId('admin')})`]);
    c.store.endCancelledRun(id);
    const ended = (await c.app.inject({ url: `/v1/runs/${id}`, headers: auth.auditor })).json();
    expect(ended).toMatchObject({ status: 'cancelled', stopReason: `cancelled by admin ops (${tokenId('admin')})` });
  });

  it('refuses a finished run with 409 E_RUN_FINISHED, changing nothing', async () => {
    const completed = commitTinyModel(c.store).runId;
    c.store.endRun(completed, 'completed');
    const cancelled = queuedRun();
    await cancel(cancelled);
    for (const [id, status] of [[completed, 'completed'], [cancelled, 'cancelled']] as const) {
      const before = c.store.getRun(id);
      const res = await cancel(id);
      expect(res.statusCode).toBe(409);
      expect(res.json().error).toEqual({ code: 'E_RUN_FINISHED', message: `run ${id} has already ended (${status}): nothing to cancel`, details: { status } });
      expect(c.store.getRun(id)).toEqual(before);
    }
  });

  it('404 E_NOT_FOUND for an unknown run, 400 for a malformed id, 403 for a clinician or an auditor', async () => {
    expect((await cancel('run-00000000')).json().error.code).toBe('E_NOT_FOUND');
    expect((await cancel('run-zz')).json().error.code).toBe('E_BAD_REQUEST');
    const id = queuedRun();
    for (const role of ['clinician', 'auditor'] as const) {
      const res = await cancel(id, role);
      expect([res.statusCode, res.json().error.code]).toEqual([403, 'E_FORBIDDEN']);
    }
    expect(c.store.getRun(id)!.status).toBe('queued');
    c.store.cancelRun(id, 'test cleanup');
  });
});

describe('GET /v1/runs', () => {
  it('lists the newest runs first with strategy, rounds done / planned, best round, times and reasons', async () => {
    const trained = commitTinyModel(c.store).runId;
    c.store.setBestRound(trained, 1);
    c.store.endRun(trained, 'failed', 'round 2: 1 of the 2 updates needed');
    const queued = queuedRun();
    const res = await c.app.inject({ url: '/v1/runs', headers: auth.admin });
    expect(res.statusCode).toBe(200);
    const runs = res.json().runs as Record<string, unknown>[];
    expect(runs[0]).toEqual({
      id: queued, status: 'queued', study: 'tiny', strategy: 'fedadam', roundsDone: 0, roundsPlanned: 12, bestRound: null,
      createdAt: expect.any(String), startedAt: null, endedAt: null, error: null, stopReason: null, cancelRequestedAt: null, cancelRequestedBy: null,
    });
    expect(runs[1]).toMatchObject({ id: trained, status: 'failed', strategy: 'fedavg', roundsDone: 1, roundsPlanned: 5, bestRound: 1, error: 'round 2: 1 of the 2 updates needed' });
    expect(runs[1]!.endedAt).toEqual(expect.any(String));
    const seqs = runs.map((r) => c.store.getRun(r.id as string)!.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    c.store.cancelRun(queued, 'test cleanup');
  });

  it('takes ?limit= between 1 and 5000, and refuses anything else with E_BAD_REQUEST', async () => {
    const list = (q: string) => c.app.inject({ url: `/v1/runs${q}`, headers: auth['data-scientist'] });
    expect((await list('?limit=2')).json().runs).toHaveLength(2);
    for (const q of ['?limit=0', '?limit=5001', '?limit=Infinity', '?limit=two', '?colour=blue']) {
      const res = await list(q);
      expect([res.statusCode, res.json().error.code], q).toEqual([400, 'E_BAD_REQUEST']);
    }
  });
});

describe('a read-only coordinator', () => {
  it('cancels nothing: E_READ_ONLY', async () => {
    const db = join(dir, 'ro.sqlite');
    const live = await buildCoordinator({ db, log: () => {} });
    const id = live.store.createRun(config, hashConfig(config)).id;
    const token = live.tokens.create('data-scientist').token;
    await live.close();
    const ro = await buildCoordinator({ db, log: () => {}, readOnly: true });
    try {
      const res = await ro.app.inject({ method: 'POST', url: `/v1/runs/${id}/cancel`, headers: { authorization: `Bearer ${token}` } });
      expect([res.statusCode, res.json().error.code]).toEqual([503, 'E_READ_ONLY']);
      expect(ro.store.getRun(id)!.status).toBe('queued');
    } finally {
      await ro.close();
    }
  });
});
