// End to end: an agent that sends NaN weights and an agent whose CSV lacks a required column
// are refused with coded reasons; the rounds still complete with the other sites.

import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.js';
import { startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
afterAll(async () => {
  await fed?.stop();
});

describe('misbehaving sites end to end', () => {
  it('rejects a NaN update and a CSV missing a column, and completes the run with the others', async () => {
    const dir = tempDir('e2e-bad');
    // site-4's CSV loses its weight_kg column.
    const broken = join(dir, 'site-4-broken.csv');
    fed = await startFederation(dir, {
      sites: 4,
      extraAgentArgs: { 'site-3': ['--fault', 'nan-update'] },
      dataFiles: (sites) => {
        const rows = readFileSync(sites[3]!.file, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
        const col = rows[0]!.indexOf('weight_kg');
        writeFileSync(broken, rows.map((r) => r.filter((_, i) => i !== col).join(',')).join('\n') + '\n');
        return { 'site-4': broken };
      },
    });

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
