// End to end (issue 10, finding 5): agents whose local training takes many heartbeat intervals
// stay connected, because training runs in each agent's compute thread and its event loop keeps
// answering pings. The coordinator pings every 1.5 s here and drops a site silent for two
// pings; one local epoch of a wide MLP takes longer than that, in one stretch of computation. The round is bounded by its own timeout, not by the heartbeat.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStudyFile } from '../../shared/load-study.js';
import { tempDir } from '../helpers/temp.js';
import { startFederation, type Federation } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HEARTBEAT_SEC = 1.5;
const TRAINED = /round 1: trained (\d+) epochs on (\d+) rows in (\d+) ms/;

let fed: Federation | undefined;
afterAll(async () => {
  await fed?.stop();
});

describe('busy agents end to end', () => {
  it('keeps training sites connected through a long round and completes it', { timeout: 400_000 }, async () => {
    const dir = tempDir('e2e-busy');
    fed = await startFederation(dir, { sites: 2, patients: 600, coordinatorArgs: ['--heartbeat-sec', String(HEARTBEAT_SEC)] });
    const study = { ...loadStudyFile(join(ROOT, 'datasets/studies/synthetic-warfarin.json')), model: { type: 'mlp', hidden: [1024, 1024] } };
    const ds = fed.clients['data-scientist'];
    // Three epochs: long enough that even an idle machine trains past the heartbeat (two took 1.8 s on 117 rows here).
    const started = await ds.startRun({ study, rounds: 1, minSites: 2, roundTimeoutSec: 200, localEpochs: 3, batchSize: 16 });

    // While the run lasts, every site stays connected and answers its heartbeats.
    let maxPingMs = 0;
    let samples = 0;
    let run = await ds.run(started.id);
    while (run.status === 'queued' || run.status === 'running') {
      const sites = (await ds.sites()).sites;
      expect(sites.map((s) => s.connected)).toEqual([true, true]);
      for (const s of sites) if (s.pingMs !== null) maxPingMs = Math.max(maxPingMs, s.pingMs);
      samples++;
      await new Promise((r) => setTimeout(r, 250));
      run = await ds.run(started.id);
    }
    expect(run.status, run.error ?? '').toBe('completed');
    const r1 = run.rounds.find((r) => r.round === 1)!;
    expect(r1.sites.map((s) => [s.siteId, s.status])).toEqual([
      ['site-1', 'accepted'],
      ['site-2', 'accepted'],
    ]);

    // The premise: sites trained for longer than the heartbeat allows a silent site.
    const trainedMs: number[] = [];
    for (const [siteId, agent] of fed.agents) {
      const m = await agent.waitFor(TRAINED, 1000);
      trainedMs.push(Number(m[3]));
      console.log(`${siteId}: trained ${m[1]} epochs on ${m[2]} rows in ${m[3]} ms; heartbeat every ${HEARTBEAT_SEC * 1000} ms; longest ping round trip seen ${maxPingMs.toFixed(1)} ms (${samples} samples)`);
    }
    expect(Math.min(...trainedMs)).toBeGreaterThan(HEARTBEAT_SEC * 1000);
    expect(Math.max(...trainedMs)).toBeGreaterThan(2 * HEARTBEAT_SEC * 1000);
    // Generous: the coordinator drops a site whose answer takes two intervals.
    expect(maxPingMs).toBeLessThan(2 * HEARTBEAT_SEC * 1000);
    expect(fed.coordinator.lines.filter((l) => /site site-\d disconnected/.test(l))).toEqual([]);
  });
});
