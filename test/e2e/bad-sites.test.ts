// End to end: a site that sends NaN weights and an agent whose CSV lacks a required column are
// refused with coded reasons; the rounds still complete with the other sites. The NaN comes from
// a protocol-level peer holding site-3's key (a real agent checks its weights before sending).

import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { statsOf } from '../../shared/feature-stats.js';
import { readKeyPair } from '../../shared/key-files.js';
import { hashWeights } from '../../shared/model-hash.js';
import { checkStudy } from '../../shared/load-study.js';
import { loadSiteRows } from '../../site-agent/local-data.js';
import { tempDir } from '../helpers/temp.js';
import { signedStatsReport, signedUpdateFrame, TestPeer } from '../helpers/test-peer.js';
import { startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
let peer: TestPeer | undefined;
afterAll(async () => {
  peer?.close();
  await fed?.stop();
});

/** site-3 as a peer: honest statistics, then a NaN in every update; it declines evaluations. */
async function nanSite(f: Federation, rounds: number): Promise<TestPeer> {
  await f.agents.get('site-3')!.stop();
  const site = { siteId: 'site-3', keys: readKeyPair(f.keyDir('site-3'), 'site') };
  const p = await TestPeer.admit(f.url, site);
  void (async () => {
    const req = await p.until((r) => r.json.find((m) => m.type === 'stats-request'), 60_000);
    const study = checkStudy(req.study);
    const rows = await loadSiteRows(f.sites[2]!.file, study, { siteId: 'site-3' });
    p.send(signedStatsReport(site, req.runId as string, statsOf(study, rows.train)));
    for (let round = 1; round <= rounds; round++) {
      const { header, weights } = await p.task('train', round);
      weights[0]!.data[0] = Number.NaN;
      p.send(signedUpdateFrame(site, { runId: header.runId, round, baseModelHash: header.modelHash, updateHash: hashWeights(weights), numExamples: rows.train.length }, weights));
      const ev = await p.task('evaluate', round);
      p.send(JSON.stringify({ type: 'task-error', v: 1, runId: ev.header.runId, round, code: 'E_TRAINING_FAILED', message: 'no evaluation from this peer' }));
    }
  })();
  return p;
}

describe('misbehaving sites end to end', () => {
  it('rejects a NaN update and a CSV missing a column, and completes the run with the others', async () => {
    const dir = tempDir('e2e-bad');
    // site-4's CSV loses its weight_kg column.
    const broken = join(dir, 'site-4-broken.csv');
    fed = await startFederation(dir, {
      sites: 4,
      dataFiles: (sites) => {
        const rows = readFileSync(sites[3]!.file, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
        const col = rows[0]!.indexOf('weight_kg');
        writeFileSync(broken, rows.map((r) => r.filter((_, i) => i !== col).join(',')).join('\n') + '\n');
        return { 'site-4': broken };
      },
    });

    peer = await nanSite(fed, 2);
    const started = await fed.clients['data-scientist'].startRun({ rounds: 2, minSites: 2, roundTimeoutSec: 60 });
    const run = await fed.clients['data-scientist'].follow(started.id, () => {});
    expect(run.status, run.error ?? '').toBe('completed');
    for (const r of run.rounds.filter((x) => x.round > 0)) {
      const by = Object.fromEntries(r.sites.map((s) => [s.siteId, s]));
      expect(by['site-1']!.status).toBe('accepted');
      expect(by['site-2']!.status).toBe('accepted');
      expect(by['site-3']).toMatchObject({ status: 'rejected', code: 'E_NON_FINITE' });
      expect(by['site-4']).toMatchObject({ status: 'failed', code: 'E_CSV_MISSING_COLUMN' });
      expect(by['site-4']!.reason).toMatch(/weight_kg/);
      expect(r.metrics.sites).toBe(2);
    }
    const chain = await fed.clients.auditor.ledger();
    for (const e of chain.entries.slice(1)) expect(e.participants.map((p) => p.siteId)).toEqual(['site-1', 'site-2']);
    // The agents that were refused are still connected and working.
    expect((await fed.clients.auditor.sites()).sites.filter((s) => s.connected).length).toBe(4);
  });
});
