// `fedrx region` as a hospital network runs it: a regional federation (its coordinator and two real
// agents), a national coordinator, and the regional agent process between them. A national run
// trains through the region; its entry commits to the regional chain, which names the national
// model, and the region endorses the national entry once its hospitals endorsed theirs.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalFederation, type LocalFederation } from '../../cli/local-federation.js';
import { spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import { headSigned } from '../../shared/ledger-head.js';
import { createKeyFiles } from '../../shared/key-files.js';
import { tempDir } from '../helpers/temp.js';
import { startFederation, type Federation } from './harness.js';

let region: Federation | undefined;
let national: LocalFederation | undefined;
let agent: FedrxProcess | undefined;
afterAll(async () => {
  await agent?.stop();
  await national?.stop();
  await region?.stop();
});

describe('fedrx region', () => {
  it('links a regional federation to a national coordinator: a national round trained by the region, committed to its chain, endorsed up', async () => {
    const dir = tempDir('e2e-region');
    region = await startFederation(join(dir, 'region'), { sites: 2 });
    national = await startLocalFederation(join(dir, 'national'), []);
    const keyDir = join(dir, 'region-key');
    const keys = createKeyFiles(keyDir, 'site');
    await national.clients.admin.registerSite('region-a', keys.publicKey);

    agent = spawnFedrx('region', ['region', '--parent', national.url, '--site', 'region-a', '--key', keyDir, '--coordinator', region.url, '--min-sites', '2', '--round-timeout', '60', '--replica-dir', join(dir, 'region-state')], {
      env: { FEDRX_TOKEN: region.tokens['data-scientist'] },
      logFile: join(dir, 'region.log'),
    });
    await agent.waitFor(/relaying the parent's tasks to the regional coordinator/, 60_000);
    const client = national.clients['data-scientist'];
    for (let i = 0; i < 100 && (await client.health()).sitesConnected < 1; i++) await new Promise((r) => setTimeout(r, 300));

    const run = await client.startRun({ study: 'synthetic-warfarin', rounds: 1, minSites: 1, localEpochs: 1, roundTimeoutSec: 120 });
    const done = await client.follow(run.id, () => {});
    expect(done.status, agent.lines.slice(-20).join('\n')).toBe('completed');

    const nationalChain = (await client.ledger(0, 100)).entries;
    expect(nationalChain.map((e) => e.round)).toEqual([0, 1]);
    const [stats, round1] = nationalChain;
    const regionalChain = (await region.clients['data-scientist'].ledger(0, 100)).entries;
    // Round 0: the region reported its two hospitals' statistics, summed.
    expect(stats!.participants.map((p) => p.siteId)).toEqual(['region-a']);
    expect(stats!.participants[0]!.numExamples).toBe(regionalChain[0]!.participants.reduce((n, p) => n + p.numExamples, 0));
    // Round 1: the national entry names the regional head, whose entry trained from the national model and is the region's update.
    const child = round1!.children!.find((c) => c.siteId === 'region-a')!;
    expect(headSigned(child.head)).toBe(true);
    const regional = regionalChain[child.head.length - 1]!;
    expect(regional.entryHash).toBe(child.head.headHash);
    expect(regional.parentModelHash).toBe(round1!.parentModelHash);
    expect(regional.modelHash).toBe(round1!.participants[0]!.updateHash);
    expect(regional.participants.map((p) => p.siteId).sort()).toEqual(region.sites.map((s) => s.siteId).sort());
    const relayRun = await region.clients['data-scientist'].run(regional.runId);
    expect(relayRun.config).toMatchObject({ relay: { parentRunId: run.id }, minSites: 2 });

    // The region endorses national entry 1 once its hospitals endorsed regional entry 1.
    let endorsedBy: string[] = [];
    for (let i = 0; i < 100 && endorsedBy.length === 0; i++) {
      endorsedBy = (await national.clients.auditor.endorsements(1, 1)).entries[0]?.endorsedBy ?? [];
      if (endorsedBy.length === 0) await new Promise((r) => setTimeout(r, 300));
    }
    expect(endorsedBy).toEqual(['region-a']);
    expect((await region.clients.auditor.endorsements(regional.index, 1)).entries[0]!.endorsed).toBe(true);

    // Stopping the region ends its relay run: the regional coordinator is free again.
    await agent.stop();
    agent = undefined;
    expect((await region.clients['data-scientist'].run(regional.runId)).status).toBe('completed');
  }, 300_000);
});
