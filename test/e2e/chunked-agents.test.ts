// End to end: real agents whose every update is larger than their chunk size (`--chunk-mb`) send
// them as chunk streams, and a real coordinator aggregates them: the run completes with every
// update accepted, the ledger verifies, and each agent says how many chunks it sent.

import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.js';
import { startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
afterAll(async () => {
  await fed?.stop();
});

describe('chunked updates from real agents', () => {
  it('streams each update in chunks of 512 bytes and completes the run as with one frame each', async () => {
    const tiny = ['--chunk-mb', String(512 / 1024 / 1024)];
    fed = await startFederation(tempDir('e2e-chunked'), { sites: 2, extraAgentArgs: { 'site-1': tiny, 'site-2': tiny } });
    const started = await fed.clients['data-scientist'].startRun({ rounds: 2, minSites: 2, roundTimeoutSec: 60 });
    const run = await fed.clients['data-scientist'].follow(started.id, () => {});
    expect(run.status, run.error ?? '').toBe('completed');
    for (const r of run.rounds.filter((x) => x.round > 0)) expect(r.sites.map((s) => [s.siteId, s.status])).toEqual([['site-1', 'accepted'], ['site-2', 'accepted']]);
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true, length: 3 });
    for (const siteId of ['site-1', 'site-2']) {
      const sent = fed.agents.get(siteId)!.lines.filter((l) => /sent the update as \d+ chunks/.test(l));
      expect(sent.length, fed.agents.get(siteId)!.lines.slice(-5).join('\n')).toBe(2);
      expect(Number(/as (\d+) chunks/.exec(sent[0]!)![1])).toBeGreaterThan(2);
    }
  });
});
