// `fedrx simulate` as a user runs it: one process that starts the real coordinator and a pool of
// virtual sites, runs a training run over them and checks the ledger.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnFedrx } from '../../cli/spawn.js';
import { withStore } from '../../cli/admin.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import { verifyChain } from '../../shared/ledger.js';
import { tempDir } from '../helpers/temp.js';
import { rmSync } from 'node:fs';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function simulate(args: string[]): Promise<{ code: number | null; out: string; dir: string }> {
  const dir = tempDir('simulate');
  dirs.push(dir);
  const p = spawnFedrx('simulate', ['simulate', '--dir', join(dir, 'sim'), ...args]);
  const code = await p.exited;
  return { code, out: p.lines.join('\n'), dir: join(dir, 'sim') };
}

describe('fedrx simulate', () => {
  it('runs 12 virtual sites through a median run with dropouts and scaled hostile updates, every entry marked simulated', async () => {
    const { code, out, dir } = await simulate(['--sites', '12', '--rows-per-site', '30', '--rounds', '2', '--min-sites', '6', '--dropout', '0.1', '--hostile', '0.25', '--attack', 'scale', '--strategy', 'median', '--round-timeout', '60']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/12 virtual sites from synthetic-warfarin \(360 rows\), partition iid: 30–30 rows per site/);
    expect(out).toMatch(/12 sites connected in [\d.]+ s; simulator memory \d+ MiB/);
    expect(out).toMatch(/^round 2\/2 {2}sites \d+\/12 /m);
    expect(out).toMatch(/ledger: verifies, 3 entries; 3 of the run's 3 entries marked simulated/);

    const entries = withStore(join(dir, 'coordinator.sqlite'), (store) => store.ledger.list(0, 100), { readonly: true }) as LedgerEntry[];
    expect(verifyChain(entries).ok).toBe(true);
    for (const e of entries) expect(e.simulation).toEqual({ virtualSites: 12, source: 'synthetic-warfarin', partition: 'iid', seed: 'fedrx-simulate', dropout: 0.1, stragglers: 0, straggleMs: 2000, byzantine: 0.25, attack: 'scale' });
    // The median trimmed coordinates away from the three hostile sites, and said so.
    expect(entries[2]!.robust?.rule).toBe('median');
    // Each virtual site kept its own replica: a prefix of the coordinator's chain.
    const replica = readFileSync(join(dir, 'sites', 'sim-01', 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LedgerEntry);
    expect(replica.length).toBeGreaterThanOrEqual(2);
    expect(replica.map((e) => e.entryHash)).toEqual(entries.slice(0, replica.length).map((e) => e.entryHash));
  }, 300_000);

  it('refuses more sites than the data has rows, and a Dirichlet α ≤ 0, before starting anything', async () => {
    const dir = tempDir('simulate-bad');
    dirs.push(dir);
    const csv = join(dir, 'tiny.csv');
    writeFileSync(csv, 'patient_id,weekly_dose_mg\n' + Array.from({ length: 10 }, (_, i) => `p${i},${20 + i}`).join('\n') + '\n');
    const tooMany = await simulate(['--sites', '50', '--data', csv]);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.out).toMatch(/E_BAD_PARTITION.*50 sites of at least 1 row\(s\) need 50 rows; the data has 10/);
    const alpha = await simulate(['--sites', '5', '--partition', 'dirichlet-label:0']);
    expect(alpha.code).not.toBe(0);
    expect(alpha.out).toMatch(/E_BAD_PARTITION.*α must be a number > 0/);
    const noAttack = await simulate(['--sites', '5', '--hostile', '0.2']);
    expect(noAttack.out).toMatch(/E_BAD_REQUEST.*--hostile needs --attack/);
    const secureRegions = await simulate(['--sites', '4', '--regions', '2', '--secure-aggregation']);
    expect(secureRegions.code).not.toBe(0);
    expect(secureRegions.out).toMatch(/E_BAD_REQUEST.*--regions: secureAggregation among regions is not supported/);
  }, 120_000);
});
