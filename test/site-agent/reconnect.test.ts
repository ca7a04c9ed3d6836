// Integration: a real coordinator (Fastify + ws on loopback, SQLite) goes away and comes back on
// the same database and port. The agents keep their replicas, endorsements and kept answers on
// disk, redial by themselves with backoff, and take part in the next run with no operator action.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../coordinator/app.js';
import type { RunView } from '../../cli/client/client.js';
import { createKeyFiles } from '../../shared/key-files.js';
import { startAgent, type RunningAgent } from '../../site-agent/agent.js';
import { ANSWERS_DIR } from '../../site-agent/answer-store.js';
import { ENDORSER_STATE_FILE } from '../../site-agent/endorser-state.js';
import { ENDORSEMENTS_FILE, REPLICA_FILE } from '../../site-agent/replica.js';
import { csvText, tempDir, until, warfarinRows } from './helpers.js';

const tmp = tempDir('fedrx-reconnect-');
const db = path.join(tmp.dir, 'coordinator.sqlite');
const SITES = ['site-a', 'site-b'];
const agents: RunningAgent[] = [];
const logs: Record<string, string[]> = { 'site-a': [], 'site-b': [] };
let coordinator: Coordinator | undefined;

afterAll(async () => {
  for (const a of agents) await a.close();
  await coordinator?.close();
  tmp.cleanup();
});

const replicaDir = (siteId: string): string => path.join(tmp.dir, `${siteId}-replica`);
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

async function runToEnd(c: Coordinator, rounds: number): Promise<RunView> {
  const headers = { authorization: `Bearer ${c.tokens.create('data-scientist').token}` };
  const res = await c.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { rounds, minSites: 2, roundTimeoutSec: 30, batchSize: 64 } });
  expect(res.statusCode).toBe(201);
  const end = Date.now() + 60_000;
  for (;;) {
    const run = (await c.app.inject({ headers, method: 'GET', url: `/v1/runs/${res.json().id as string}` })).json() as RunView;
    if (run.status === 'completed' || run.status === 'failed' || Date.now() > end) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a coordinator that goes away and comes back', () => {
  it('finds the agents back by themselves, with their replicas and endorsements, ready for the next run', async () => {
    coordinator = await buildCoordinator({ db, log: () => {} });
    const port = Number(new URL(await coordinator.listen(0)).port);
    for (const [i, siteId] of SITES.entries()) {
      const keyDir = path.join(tmp.dir, `${siteId}-key`);
      coordinator.store.sites.register(siteId, createKeyFiles(keyDir, 'site').publicKey);
      agents.push(
        await startAgent({
          coordinatorUrl: `http://127.0.0.1:${port}`,
          siteId,
          keyDir,
          dataFile: tmp.file(`${siteId}.csv`, csvText(warfarinRows(60, 10 + i))),
          replicaDir: replicaDir(siteId),
          log: (l) => logs[siteId]!.push(l),
          backoff: { minDelayMs: 50, maxDelayMs: 400 },
        }),
      );
    }
    const first = coordinator;
    await until(() => first.gateway!.connectedSites().length === 2, 'both agents connected', 20_000);
    expect((await runToEnd(first, 1)).status).toBe('completed');
    // Round 0 (statistics) and round 1, each endorsed by both sites.
    await until(() => agents.every((a) => a.replica.head().length === 2 && a.replica.ownEndorsements().length === 2), 'entries endorsed', 20_000);

    await first.close();
    coordinator = undefined;
    // Nobody listens now: each agent keeps redialling with backoff.
    await until(() => SITES.every((s) => logs[s]!.filter((l) => /^connection error: .*ECONNREFUSED/.test(l)).length >= 2), 'both agents to be redialling', 10_000);
    // Meanwhile everything the sites hold is on disk.
    for (const s of SITES) {
      expect(lines(path.join(replicaDir(s), REPLICA_FILE)).length).toBe(2);
      expect(lines(path.join(replicaDir(s), ENDORSEMENTS_FILE)).length).toBe(2);
      expect(existsSync(path.join(replicaDir(s), ENDORSER_STATE_FILE))).toBe(true);
      expect(JSON.parse(readFileSync(path.join(replicaDir(s), ANSWERS_DIR, 'index.json'), 'utf8')).answers.map((a: { kind: string }) => a.kind)).toEqual(['train', 'evaluate']);
    }

    const second = await buildCoordinator({ db, log: () => {} }); // same database, same port
    coordinator = second;
    await second.listen(port);
    await until(() => second.gateway!.connectedSites().length === 2, 'both agents back', 20_000);
    await until(() => SITES.every((s) => logs[s]!.includes('welcomed by coordinator: ledger 2 entries, replica 2')), 'both agents welcomed again');

    const run = await runToEnd(second, 1);
    expect(run.status, run.error ?? '').toBe('completed');
    expect(run.rounds.at(-1)!.sites.map((s) => [s.siteId, s.status])).toEqual([
      ['site-a', 'accepted'],
      ['site-b', 'accepted'],
    ]);
    await until(() => agents.every((a) => a.replica.head().length === 4 && a.replica.ownEndorsements().length === 4), 'the new entries endorsed', 20_000);
  });
});
