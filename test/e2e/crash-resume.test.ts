// End to end: the coordinator is killed with SIGKILL at six moments of one run (FEDRX_CRASH_AT):
// during round 0's statistics, right after round 1's training requests went out, mid-upload in
// round 2, between aggregation and commit in round 3, right after round 4's commit, and during
// round 5's evaluation. Each time it is started again on the same database and port; the agents
// reconnect by themselves. The run must finish with the same id and config, one ledger entry per
// round, a chain that verifies, and replicas that agree with it. A second test kills an agent
// mid-round: the round closes on the others, and the agent rejoins after a restart.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import { readReplicaDir } from '../../site-agent/replica.js';
import { tempDir } from '../helpers/temp.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

/** Each drill, and the last round committed when it strikes (-1: none, the run starts over). */
const DRILLS: [string, number][] = [
  ['answer:statistics@0', -1],
  ['phase-open:training@1', 0],
  ['answer:training@2', 1],
  ['aggregated@3', 2],
  ['committed@4', 4],
  ['phase-open:evaluation@5', 4],
];
const ROUNDS = 6;
const SITES = ['site-1', 'site-2', 'site-3'];

const feds: Federation[] = [];
const coordinators: FedrxProcess[] = [];
afterAll(async () => {
  await Promise.all(coordinators.map((c) => c.stop()));
  await Promise.all(feds.map((f) => f.stop()));
});

/** Polls `check` until it returns a value, or throws after `ms`. */
async function eventually<T>(what: string, ms: number, check: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('a coordinator killed at any moment of a run', () => {
  it('resumes the run from its last committed round each time; the ledger has one entry per round and verifies', { timeout: 600_000 }, async () => {
    const fed = await startFederation(tempDir('e2e-crash-resume'), { sites: 3, patients: 450, coordinatorEnv: { FEDRX_CRASH_AT: DRILLS[0]![0] } });
    feds.push(fed);
    const port = new URL(fed.url).port;
    const client = fed.clients['data-scientist'];
    const started = await client.startRun({ strategy: 'fedadam', rounds: ROUNDS, minSites: 3, roundTimeoutSec: 60, waitForSitesSec: 120 });
    let coordinator = fed.coordinator;
    for (let i = 0; i < DRILLS.length; i++) {
      await coordinator.waitFor(/crash drill: killed at/, 240_000);
      expect(await coordinator.exited).toBeNull(); // killed by a signal, not an exit
      const next = DRILLS[i + 1]?.[0];
      coordinator = spawnFedrx(`coordinator-${i + 1}`, ['coordinator', '--db', fed.db, '--port', port], {
        logFile: join(fed.dir, 'logs', `coordinator-${i + 1}.log`),
        env: { FEDRX_CRASH_AT: next ?? '' },
      });
      coordinators.push(coordinator);
      await coordinator.waitFor(LISTENING, 30_000);
      const committed = DRILLS[i]![1];
      await coordinator.waitFor(new RegExp(committed < 0 ? `run ${started.id} started` : `run ${started.id} resumed after round ${committed} of ${ROUNDS}`), 30_000);
    }
    await coordinator.waitFor(new RegExp(`run ${started.id} completed`), 240_000);

    const run = await client.run(started.id);
    expect(run.status).toBe('completed');
    expect(run.configHash).toBe(started.configHash);
    expect(run.rounds.map((r) => [r.round, r.status])).toEqual(Array.from({ length: ROUNDS + 1 }, (_, r) => [r, 'committed']));
    const { entries, length } = await fed.clients.auditor.ledger();
    const ofRun = entries.filter((e) => e.runId === started.id);
    expect(ofRun.map((e) => e.round)).toEqual(Array.from({ length: ROUNDS + 1 }, (_, r) => r));
    expect(ofRun.map((e) => e.index)).toEqual(Array.from({ length: ROUNDS + 1 }, (_, r) => ofRun[0]!.index + r));
    // Each round starts from the model the previous entry committed.
    for (let r = 1; r < ofRun.length; r++) expect(ofRun[r]!.parentModelHash).toBe(ofRun[r - 1]!.modelHash);
    for (const e of ofRun.slice(1)) expect(e.participants.map((p) => p.siteId)).toEqual(SITES);

    // No site trained twice for a round: a redone round is answered with the update already made.
    for (const [siteId, agent] of fed.agents) {
      const trained = agent.lines.flatMap((l) => l.match(/round (\d+): trained /)?.[1] ?? []);
      expect(trained, `${siteId} trained these rounds`).toEqual([...new Set(trained)]);
      expect(new Set(trained).size, siteId).toBe(ROUNDS);
    }
    // Every replica catches up with the coordinator's chain, entry for entry.
    for (const siteId of SITES) {
      const hashes = await eventually(`${siteId}'s replica`, 60_000, async () => {
        const r = await readReplicaDir(fed.replicaDir(siteId));
        return r.entries.length === length ? r.entries.map((e) => e.entryHash) : null;
      });
      expect(hashes).toEqual(entries.map((e) => e.entryHash));
    }
    // The chain verifies, with every entry endorsed once the sites have re-sent what the crashes lost.
    const verified = await eventually('ledger verify exit 0', 60_000, async () => {
      const v = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
      return v.code === 0 ? v : null;
    });
    expect(verified.lines.join('\n')).toMatch(new RegExp(`ledger intact: ${length} entries`));
  });
});

describe('an agent killed mid-round', () => {
  it('leaves the round to close on the others; restarted, it rejoins a later round', { timeout: 400_000 }, async () => {
    const fed = await startFederation(tempDir('e2e-agent-killed'), { sites: 3, patients: 450 });
    feds.push(fed);
    const client = fed.clients['data-scientist'];
    // Enough local work per round that the later rounds outlast the agent's restart.
    const started = await client.startRun({ rounds: 12, minSites: 2, roundTimeoutSec: 60, localEpochs: 10, batchSize: 8 });
    const victim = fed.agents.get('site-3')!;
    await victim.waitFor(/round 2: train task for run/, 180_000);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const restarted = fed.restartAgent('site-3');
    await fed.coordinator.waitFor(/round 2\/12: 2\/3 sites/, 60_000);
    await restarted.waitFor(/welcomed by coordinator/, 60_000);
    await fed.coordinator.waitFor(new RegExp(`run ${started.id} completed`), 240_000);

    const run = await client.run(started.id);
    const round2 = run.rounds.find((r) => r.round === 2)!;
    expect(round2.sites.find((s) => s.siteId === 'site-3')).toMatchObject({ status: 'failed', code: 'E_DISCONNECTED' });
    expect(round2.sites.filter((s) => s.status === 'accepted').map((s) => s.siteId)).toEqual(['site-1', 'site-2']);
    const rejoined = run.rounds.filter((r) => r.round > 2 && r.sites.some((s) => s.siteId === 'site-3' && s.status === 'accepted'));
    expect(rejoined.length).toBeGreaterThan(0);
    expect(run.rounds.filter((r) => r.status === 'committed')).toHaveLength(13);
  });
});
