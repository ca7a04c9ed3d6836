// Disputes: only a participant of an entry may dispute it (a whole-chain divergence may come from
// any site), and a site files a bounded number per hour however often it reconnects.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { hashConfig } from '../../../shared/ledger.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../../shared/run-config.js';
import type { Weights } from '../../../shared/tensors.js';
import { PROTOCOL_VERSION } from '../../../shared/wire.js';
import { tempDir } from '../../helpers/temp.js';
import { registerTestSites, TestPeer, type TestSite } from '../../helpers/test-peer.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

const DISPUTES_PER_HOUR = 4;
let c: Coordinator;
let url: string;
let sites: Record<string, TestSite>;

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('disputes'), 'c.sqlite'), log: () => {}, limits: { disputesPerHour: DISPUTES_PER_HOUR } });
  sites = registerTestSites(c.store, ['site-a', 'site-b', 'site-c']);
  // Entry 0, with site-a as its only participant.
  const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };
  const run = c.store.createRun(config, hashConfig(config));
  const weights: Weights = [{ name: 'dense0/bias', shape: [1], data: new Float32Array([1]) }];
  c.store.commitRound({
    runId: run.id, round: 0, startedAt: new Date().toISOString(), modelHash: hashWeights(weights), weights, metrics: { sites: 1 }, sites: [], state: { progress: '{}', strategy: null }, bestRound: null,
    entry: { parentModelHash: null, participants: [{ siteId: 'site-a', numExamples: 10, updateHash: 'a'.repeat(64), signature: 'b'.repeat(128) }], configHash: run.configHash },
  });
  url = await c.listen(0);
});
afterAll(async () => {
  await c.close();
});

const dispute = (index: number, code = 'E_ENTRY_DISPUTED'): string => JSON.stringify({ type: 'dispute', v: PROTOCOL_VERSION, index, code, reason: 'test' });
const recorded = (siteId: string): number => c.store.endorsements.disputes().filter((d) => d.siteId === siteId).length;

describe('disputes', () => {
  it('a site that did not take part in an entry may not dispute it; nothing is recorded', async () => {
    const b = await TestPeer.admit(url, sites['site-b']!);
    b.send(dispute(0));
    expect((await b.errorWith('E_NOT_PARTICIPANT')).message).toMatch(/not a participant of entry 0/);
    b.send(dispute(7));
    await b.errorWith('E_NOT_FOUND');
    expect(recorded('site-b')).toBe(0);
    expect(b.closed).toBeNull();
    b.close();
  });

  it(`a participant files at most ${DISPUTES_PER_HOUR} per hour, across reconnections`, async () => {
    const sent = 3 * DISPUTES_PER_HOUR;
    let refused = 0;
    for (let i = 0; i < sent; i++) {
      // A fresh connection each time: the limit belongs to the site, not the socket.
      const a = await TestPeer.admit(url, sites['site-a']!);
      a.send(dispute(0));
      a.send(JSON.stringify({ type: 'endorsement', v: PROTOCOL_VERSION })); // an answer after the dispute's
      const answer = await a.until((r) => r.json.find((m) => m.type === 'error'));
      if (answer.code === 'E_RATE_LIMITED') refused++;
      a.close();
    }
    expect(recorded('site-a')).toBe(DISPUTES_PER_HOUR);
    expect(refused).toBe(sent - DISPUTES_PER_HOUR);
  });

  it('a divergence of the whole chain may be disputed by any site, past the last entry too, within the same limit', async () => {
    const c3 = await TestPeer.admit(url, sites['site-c']!);
    c3.send(dispute(5, 'E_REPLICA_DIVERGED'));
    c3.send(JSON.stringify({ type: 'endorsement', v: PROTOCOL_VERSION }));
    expect((await c3.until((r) => r.json.find((m) => m.type === 'error'))).code).toBe('E_BAD_MESSAGE');
    expect(recorded('site-c')).toBe(1);
    c3.close();
  });
});
