// End to end: ten real agent processes and a real coordinator run secure rounds (SecAgg+, threshold
// 6). Three sites are killed (FEDRX_SITE_CRASH_AT) at each stage in turn — key exchange, share
// exchange, masked upload, unmasking — and the round still commits, recording who is in the sum
// and who was recovered; with five killed, the run fails with E_SECAGG_THRESHOLD and commits
// nothing. The ledger verifies and names the protocol and its parameters. A private secure round
// records the σ its surviving noise shares reach, and a coordinator killed mid-upload resumes the
// secure round with fresh keys.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import { tempDir } from '../helpers/temp.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

const SITES = Array.from({ length: 10 }, (_, i) => `site-${i + 1}`);
const THREE = ['site-2', 'site-5', 'site-9'];
const FIVE = ['site-1', 'site-3', 'site-5', 'site-7', 'site-9'];
let fed: Federation;
const restarted: FedrxProcess[] = [];

afterAll(async () => {
  await Promise.all(restarted.map((c) => c.stop()));
  await fed?.stop();
});

const secureRun = { rounds: 1, minSites: 5, roundTimeoutSec: 60, waitForSitesSec: 60, secureAggregation: { threshold: 6 } };

/** Restarts `victims` armed to die on `message` of round 1; resolves once they are back. */
async function arm(victims: string[], message: string): Promise<void> {
  await Promise.all(
    victims.map(async (site) => {
      await fed.agents.get(site)!.stop();
      const agent = fed.restartAgent(site, { FEDRX_SITE_CRASH_AT: `${message}@1` });
      await agent.waitFor(/welcomed by coordinator/, 60_000);
    }),
  );
}

async function restore(victims: string[]): Promise<void> {
  await Promise.all(
    victims.map(async (site) => {
      await fed.agents.get(site)!.exited;
      await fed.restartAgent(site).waitFor(/welcomed by coordinator/, 60_000);
    }),
  );
}

async function entryOf(runId: string, round: number): Promise<LedgerEntry | undefined> {
  const { entries } = await fed.clients.auditor.ledger();
  return entries.find((e) => e.runId === runId && e.round === round);
}

async function finished(runId: string, coordinator: FedrxProcess = fed.coordinator): Promise<{ status: string; error: string | null }> {
  await coordinator.waitFor(new RegExp(`run ${runId} (completed|failed)`), 240_000);
  const run = await fed.clients['data-scientist'].run(runId);
  return { status: run.status, error: run.error ?? null };
}

describe('secure aggregation with ten real sites, threshold 6', () => {
  it('commits a secure round whose entry records the protocol, and every site is in the sum', { timeout: 300_000 }, async () => {
    fed = await startFederation(tempDir('e2e-secagg'), { sites: 10, patients: 800 });
    const run = await fed.clients['data-scientist'].startRun({ ...secureRun, rounds: 2 });
    expect(await finished(run.id)).toMatchObject({ status: 'completed' });
    for (const round of [1, 2]) {
      const entry = (await entryOf(run.id, round))!;
      expect(entry.secure).toMatchObject({ protocol: 'secagg+', threshold: 6, neighbours: 9, clip: 4, quantBits: 20, modulusBits: 32, included: SITES.slice().sort(), recovered: [] });
      expect(entry.participants.map((p) => p.siteId)).toEqual(SITES.slice().sort());
      expect(entry.secure!.examples).toBe(entry.participants.reduce((n, p) => n + p.numExamples, 0));
    }
    // Each participant's signature covers its masked upload, and the chain verifies.
    const verified = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(verified.code).toBe(0);
    // No site ever sent a plain update: every training answer was masked.
    for (const site of SITES) expect(fed.agents.get(site)!.lines.filter((l) => /masked update of \d+ values sent/.test(l))).toHaveLength(2);
  });

  const stages: [string, string, (entry: LedgerEntry) => void][] = [
    ['key exchange', 'secagg-setup', (e) => expect(e.secure).toMatchObject({ included: SITES.filter((s) => !THREE.includes(s)).sort(), recovered: [] })],
    ['share exchange', 'secagg-roster', (e) => expect(e.secure).toMatchObject({ included: SITES.filter((s) => !THREE.includes(s)).sort(), recovered: [] })],
    ['masked upload', 'train', (e) => expect(e.secure).toMatchObject({ included: SITES.filter((s) => !THREE.includes(s)).sort(), recovered: THREE.slice().sort() })],
    ['unmasking', 'secagg-unmask', (e) => expect(e.secure).toMatchObject({ included: SITES.slice().sort(), recovered: [] })],
  ];
  for (const [stage, message, check] of stages) {
    it(`three sites killed during ${stage}: the round completes on the survivors' shares`, { timeout: 300_000 }, async () => {
      await arm(THREE, message);
      const run = await fed.clients['data-scientist'].startRun(secureRun);
      expect(await finished(run.id)).toMatchObject({ status: 'completed' });
      const entry = (await entryOf(run.id, 1))!;
      check(entry);
      expect(entry.participants.map((p) => p.siteId)).toEqual(entry.secure!.included);
      await restore(THREE);
    });
  }

  it('five sites killed during the masked upload: the run fails with E_SECAGG_THRESHOLD and commits nothing', { timeout: 300_000 }, async () => {
    await arm(FIVE, 'train');
    const run = await fed.clients['data-scientist'].startRun(secureRun);
    const end = await finished(run.id);
    expect(end.status).toBe('failed');
    expect(end.error).toMatch(/E_SECAGG_THRESHOLD: secure masked update: 5 of 10 sites answered, the threshold is 6/);
    expect(await entryOf(run.id, 1)).toBeUndefined();
    await restore(FIVE);
  });

  it('a private secure round: each site adds its share of the noise inside the sum; three lost, the entry records σ = Z·√(7/10)', { timeout: 300_000 }, async () => {
    await arm(THREE, 'train');
    const run = await fed.clients['data-scientist'].startRun({ ...secureRun, dp: { noiseMultiplier: 2, clip: 0.5 } });
    expect(await finished(run.id)).toMatchObject({ status: 'completed' });
    const entry = (await entryOf(run.id, 1))!;
    expect(entry.secure).toMatchObject({ included: SITES.filter((s) => !THREE.includes(s)).sort(), recovered: THREE.slice().sort() });
    expect(entry.privacy).toMatchObject({ mechanism: 'distributed-gaussian', noiseMultiplier: 2, clip: 0.5 });
    expect(entry.privacy!.sigma).toBeCloseTo(2 * Math.sqrt(7 / 10), 12);
    // Each surviving site clipped and noised its own change before masking it: Z·C/√10 per site.
    const survivor = SITES.find((s) => !THREE.includes(s))!;
    expect(fed.agents.get(survivor)!.lines.some((l) => l.includes(`change clipped to 0.5 with noise share σ ${((2 * 0.5) / Math.sqrt(10)).toPrecision(3)}`))).toBe(true);
    await restore(THREE);
  });
  it('a coordinator killed mid-upload of a secure round resumes it with fresh keys, and every site is in the sum', { timeout: 300_000 }, async () => {
    const port = new URL(fed.url).port;
    // All ten sites, so that the resumed round waits for every one to reconnect.
    const run = await fed.clients['data-scientist'].startRun({ ...secureRun, minSites: 10 });
    // The first run of this file started the coordinator without a drill: this one is started with one.
    await fed.coordinator.stop();
    const armed = spawnFedrx('coordinator-drill', ['coordinator', '--db', fed.db, '--port', port], {
      logFile: join(fed.dir, 'logs', 'coordinator-drill.log'),
      env: { FEDRX_CRASH_AT: 'answer:secure masked update@1' },
    });
    restarted.push(armed);
    await armed.waitFor(/crash drill: killed at/, 240_000);
    const again = spawnFedrx('coordinator-again', ['coordinator', '--db', fed.db, '--port', port], { logFile: join(fed.dir, 'logs', 'coordinator-again.log') });
    restarted.push(again);
    await again.waitFor(LISTENING, 30_000);
    expect(await finished(run.id, again)).toMatchObject({ status: 'completed' });
    const entry = (await entryOf(run.id, 1))!;
    expect(entry.secure).toMatchObject({ included: SITES.slice().sort(), recovered: [] });
    // The uploads masked for the first attempt were never re-sent: each site trained again for the redone round.
    for (const site of SITES) expect(fed.agents.get(site)!.lines.filter((l) => /masked update of \d+ values sent/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect((await fedrxCommand(['ledger', 'verify', '--db', fed.db])).code).toBe(0);
  });
});
