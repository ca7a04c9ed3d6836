// `fedrx simulate --regions`: two levels as docs/scale.md designs them. Regional coordinators, each a
// real process with its own chain; one regional agent per region, a site of the national
// coordinator, relaying each national task to its region; and the national chain checked down to
// one site's own entry.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnFedrx } from '../../cli/spawn.js';
import { withStore } from '../../cli/admin.js';
import { verifyDescent } from '../../shared/hierarchy/descent.js';
import { verifyChain, type LedgerEntry } from '../../shared/ledger.js';
import { headSigned } from '../../shared/ledger-head.js';
import { tempDir } from '../helpers/temp.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const chainOf = (db: string): LedgerEntry[] => withStore(db, (store) => store.ledger.list(0, 1000), { readonly: true }) as LedgerEntry[];

describe('fedrx simulate --regions', () => {
  it('runs 3 regions of 4 sites under a national coordinator; each national entry commits to the regions\' chain heads, verified down to a site\'s replica', async () => {
    const base = tempDir('simulate-regions');
    dirs.push(base);
    const dir = join(base, 'sim');
    const p = spawnFedrx('simulate', ['simulate', '--dir', dir, '--regions', '3', '--sites', '12', '--rows-per-site', '30', '--rounds', '2', '--min-sites', '3', '--region-min-sites', '3', '--round-timeout', '90']);
    const code = await p.exited;
    const out = p.lines.join('\n');
    expect(code, out).toBe(0);
    expect(out).toMatch(/12 sites connected to 3 regional coordinators in/);
    expect(out).toMatch(/3 regional agents connected to the national coordinator; each relays national tasks to its region's 4–4 sites/);
    expect(out).toMatch(/^round 2\/2 {2}sites 3\/3 /m);
    expect(out).toMatch(/regional ledgers: all verify/);
    expect(out).toMatch(/down to a site's entry: verifies/);

    const national = chainOf(join(dir, 'national', 'coordinator.sqlite'));
    expect(verifyChain(national).ok).toBe(true);
    expect(national.map((e) => e.round)).toEqual([0, 1, 2]);
    expect(national[0]!.simulation).toMatchObject({ virtualSites: 12, regions: 3 });
    // Round 0: each region reported the sum of its 4 sites' statistics.
    expect(national[0]!.participants.map((p) => [p.siteId, p.numExamples])).toEqual([
      ['region-1', expect.any(Number)],
      ['region-2', expect.any(Number)],
      ['region-3', expect.any(Number)],
    ]);
    for (const k of [1, 2, 3]) {
      const regional = chainOf(join(dir, 'regions', `region-${k}`, 'coordinator.sqlite'));
      expect(verifyChain(regional).ok).toBe(true);
      expect(regional.map((e) => e.round)).toEqual([0, 1, 2]);
      expect(regional[0]!.participants).toHaveLength(4);
      // The region's statistics are its sites' rows, summed.
      expect(national[0]!.participants.find((p) => p.siteId === `region-${k}`)!.numExamples).toBe(regional[0]!.participants.reduce((n, p) => n + p.numExamples, 0));
      for (const round of [1, 2]) {
        const entry = national[round]!;
        const child = entry.children!.find((c) => c.siteId === `region-${k}`)!;
        expect(headSigned(child.head)).toBe(true);
        const mine = regional[child.head.length - 1]!;
        expect(mine.entryHash).toBe(child.head.headHash);
        expect(mine.round).toBe(round);
        // The region trained from the national model and sent up its aggregate.
        expect(mine.parentModelHash).toBe(entry.parentModelHash);
        expect(mine.modelHash).toBe(entry.participants.find((p) => p.siteId === `region-${k}`)!.updateHash);
        expect(entry.participants.find((p) => p.siteId === `region-${k}`)!.numExamples).toBe(mine.participants.reduce((n, p) => n + p.numExamples, 0));
      }
    }
    // An auditor's descent, from the files: national entry 2 → region-1's head → its round-2 entry → sim-01's signed update and replica.
    const regional = chainOf(join(dir, 'regions', 'region-1', 'coordinator.sqlite'));
    const site = regional[2]!.participants.map((p) => p.siteId).sort()[0]!;
    const replica = readFileSync(join(dir, 'sites', site, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LedgerEntry);
    const publicKey = withStore(join(dir, 'regions', 'region-1', 'coordinator.sqlite'), (store) => store.sites.get(site)?.publicKey, { readonly: true });
    const checked = verifyDescent({ national, nationalIndex: 2, regionId: 'region-1', regional, hospitalId: site, ...(publicKey === undefined ? {} : { hospitalKey: publicKey }), hospitalReplica: replica });
    expect(checked.steps.map((s) => [s.step, s.ok])).toEqual(checked.steps.map((s) => [s.step, true]));
    expect(checked.ok).toBe(true);
    expect(checked.steps.length).toBe(4);
    // A replica that lacks the entry fails the last step, and only it.
    const short = verifyDescent({ national, nationalIndex: 2, regionId: 'region-1', regional, hospitalId: site, hospitalReplica: replica.slice(0, 1) });
    expect(short.ok).toBe(false);
    expect(short.steps.filter((s) => !s.ok)).toHaveLength(1);
  }, 300_000);
});
