// `fedrx run list` against a real coordinator on loopback: the table, in process, and `--json`
// from a real `fedrx` process. Runs are made straight through the store.

import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../coordinator/app.js';
import { runListCommand } from '../../cli/run-list.js';
import { runFedrx } from '../helpers/fedrx-process.js';
import { hashConfig } from '../../shared/ledger.js';
import { RUN_DEFAULTS, type RunConfig } from '../../coordinator/run-config-schema.js';
import { commitTinyModel } from '../helpers/tiny-model.js';
import { tempDir } from '../helpers/temp.js';
import { TINY_STUDY } from '../helpers/tiny-study.js';

let c: Coordinator;
let url: string;
let token: string;
let ids: { failed: string; running: string; queued: string };

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('run-list'), 'c.sqlite'), log: () => {} });
  url = await c.listen(0);
  token = c.tokens.create('data-scientist', 'dr-lee').token;
  const failed = commitTinyModel(c.store).runId;
  c.store.setBestRound(failed, 1);
  c.store.endRun(failed, 'failed', 'round 2: 1 of the 2 updates needed: the 30 s deadline passed with 1 of 3 updates in (no answer from site-2, site-3)');
  const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY, strategy: 'fedprox', rounds: 40 };
  const running = c.store.createRun(config, hashConfig(config)).id;
  c.store.markRunning(running);
  c.store.cancelRun(running, 'admin ops');
  const queued = c.store.createRun(config, hashConfig(config)).id;
  ids = { failed, running, queued };
});

afterAll(async () => {
  await c.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fedrx run list', () => {
  it('prints a table, newest first: status, strategy, rounds done / planned, best round, times and why', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    expect(await runListCommand(url, { token })).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^id +status +strategy +rounds +best +created \(UTC\) +ended \(UTC\) +error \/ stop reason$/);
    const cells = lines.slice(1).map((l) => l.split(/ {2,}/));
    expect(cells[0]).toEqual([ids.queued, 'queued', 'fedprox', '0/40', '–', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), '–']);
    expect(cells[1]!.slice(0, 5)).toEqual([ids.running, 'running', 'fedprox', '0/40', '–']);
    expect(cells[1]![7]).toMatch(/^cancel requested at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d by admin ops$/);
    expect(cells[2]!.slice(0, 5)).toEqual([ids.failed, 'failed', 'fedavg', '1/5', '1']);
    expect(cells[2]![6]).toMatch(/^\d{4}-/);
    // A long reason is cut to 80 characters in the table.
    expect(cells[2]![7]).toBe('round 2: 1 of the 2 updates needed: the 30 s deadline passed with 1 of 3 update…');
    expect(cells[2]![7]).toHaveLength(80);
  });

  it('--json from a real process: every field, the full reason; a bad --limit is refused before any request', async () => {
    const env = { FEDRX_TOKEN: token };
    const json = await runFedrx(['run', 'list', '--coordinator', url, '--json', '--limit', '2'], env);
    expect(json.code, json.stderr).toBe(0);
    const runs = JSON.parse(json.stdout) as { id: string; status: string; cancelRequestedBy: string | null }[];
    expect(runs.map((r) => [r.id, r.status, r.cancelRequestedBy])).toEqual([[ids.queued, 'queued', null], [ids.running, 'running', 'admin ops']]);
    const bad = await runFedrx(['run', 'list', '--coordinator', url, '--limit', '0'], env);
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([1, '', 'error E_BAD_REQUEST: --limit must be a whole number ≥ 1, got "0"\n']);
  });
});
