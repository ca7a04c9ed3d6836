// GET /v1/runs/:id/events over a real socket: the run's status first, then each round and step
// as the run queue's observers publish them, and the end, after which the stream closes. A
// finished run's stream closes after its status; roles and unknown runs are refused as elsewhere.

import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../../coordinator/app.js';
import { RunEvents } from '../../../../coordinator/http/run-events.js';
import { hashConfig, type LedgerEntry } from '../../../../shared/ledger.js';
import { RUN_DEFAULTS, type RunConfig } from '../../../../coordinator/run-config-schema.js';
import { commitTinyModel } from '../../../helpers/tiny-model.js';
import { tempDir } from '../../../helpers/temp.js';
import { TINY_STUDY } from '../../../helpers/tiny-study.js';

let c: Coordinator;
let url: string;
let auditor: string;

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('run-events'), 'c.sqlite'), log: () => {} });
  auditor = c.tokens.create('auditor').token;
  url = await c.listen(0);
});

afterAll(async () => {
  await c.close();
});

type Sse = { event: string; data: unknown };

/** Opens the stream; `events()` gives what arrived so far, `done` resolves when the server closes it. */
function open(path: string, token: string): Promise<{ status: number; events: () => Sse[]; done: Promise<void>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      const done = new Promise<void>((r) => res.on('end', () => r()));
      const events = (): Sse[] =>
        text.split('\n\n').filter((b) => b.startsWith('event: ')).map((b) => {
          const [head, data] = b.split('\n');
          return { event: head!.slice(7), data: JSON.parse(data!.slice(6)) };
        });
      resolve({ status: res.statusCode!, events, done, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(f: () => T, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('nothing arrived');
}

describe('run events', () => {
  it('streams a running run: status, each pushed round and step, then the end', async () => {
    const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY, rounds: 3, waitForSitesSec: 3600 };
    const run = c.store.createRun(config, hashConfig(config));
    const stream = await open(`/v1/runs/${run.id}/events`, auditor);
    expect(stream.status).toBe(200);
    await until(stream.events, (e) => e.length === 1);
    const entry = { index: 7, modelHash: 'ab'.repeat(32), metrics: { evalMetric: 8.5, evalLoss: 0.5 } } as unknown as LedgerEntry;
    c.events.step({ step: 'phase-open', phase: 'training', runId: run.id, round: 1 });
    c.events.round({ runId: run.id, round: 1, rounds: 3, entry, outcomes: [{ siteId: 's1', status: 'accepted', numExamples: 10, updateHash: 'cd'.repeat(32), signature: 'x', evalMetric: 8, evalLoss: 0.4 }, { siteId: 's2', status: 'rejected', code: 'E_NON_FINITE', reason: 'NaN in dense0/kernel' }] });
    // Another run's events never reach this stream.
    c.events.round({ runId: 'run-00000000', round: 1, rounds: 1, entry, outcomes: [] });
    c.events.ended(run.id);
    await stream.done;
    const events = stream.events();
    expect(events.map((e) => e.event)).toEqual(['run', 'step', 'round', 'end']);
    expect(events[0]!.data).toMatchObject({ runId: run.id });
    expect(events[2]!.data).toEqual({
      type: 'round', runId: run.id, round: 1, rounds: 3, modelHash: 'ab'.repeat(32), ledgerIndex: 7, metrics: { evalMetric: 8.5, evalLoss: 0.5 },
      sites: [
        { siteId: 's1', status: 'accepted', numExamples: 10, evalMetric: 8, evalLoss: 0.4 },
        { siteId: 's2', status: 'rejected', code: 'E_NON_FINITE', reason: 'NaN in dense0/kernel' },
      ],
    });
  });

  it('closes a finished run\'s stream after its status', async () => {
    const { runId } = commitTinyModel(c.store);
    c.store.endRun(runId, 'completed');
    const stream = await open(`/v1/runs/${runId}/events`, auditor);
    await stream.done;
    expect(stream.events()).toEqual([{ event: 'run', data: expect.objectContaining({ runId, status: 'completed' }) }]);
  });

  it('refuses a clinician and an unknown run', async () => {
    const clinician = await open('/v1/runs/run-00000000/events', c.tokens.create('clinician').token);
    expect(clinician.status).toBe(403);
    const unknown = await open('/v1/runs/run-00000000/events', auditor);
    expect(unknown.status).toBe(404);
  });

  it('lets a listener go, and survives one that throws', () => {
    const events = new RunEvents();
    const got: string[] = [];
    const stop = events.subscribe('run-1', (e) => got.push(e.type));
    events.subscribe('run-1', () => {
      throw new Error('socket closed');
    });
    events.ended('run-1');
    stop();
    events.ended('run-1');
    expect(got).toEqual(['end']);
  });
});
