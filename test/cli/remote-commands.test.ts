// `fedrx run cancel` and `fedrx run status` against a real coordinator on loopback, in process;
// the refusal of a finished run from a real `fedrx` process (its exit code and error line).

import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../coordinator/app.js';
import { printRunEnd, runCancelCommand, runStatusCommand } from '../../cli/remote-commands.js';
import { CoordinatorClient } from '../../cli/client/client.js';
import { hashConfig } from '../../shared/ledger.js';
import { RUN_DEFAULTS, type RunConfig } from '../../coordinator/run-config-schema.js';
import { runFedrx } from '../helpers/fedrx-process.js';
import { tempDir } from '../helpers/temp.js';
import { TINY_STUDY } from '../helpers/tiny-study.js';

let c: Coordinator;
let url: string;
let token: string;
let by: string;
const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('remote-commands'), 'c.sqlite'), log: () => {} });
  url = await c.listen(0);
  const t = c.tokens.create('data-scientist', 'dr-lee');
  token = t.token;
  by = `data-scientist dr-lee (${t.id})`;
});

afterAll(async () => {
  await c.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** What a command printed with console.log, and what it returned. */
async function printed(f: () => Promise<number>): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  return { code: await f(), out };
}

describe('fedrx run cancel', () => {
  it('cancels a queued run; run status then says cancelled, and a --wait would exit 1', async () => {
    const id = c.store.createRun(config, hashConfig(config)).id;
    expect(await printed(() => runCancelCommand(url, id, { token }))).toEqual({ code: 0, out: [`run ${id} cancelled by ${by} before it started`] });
    const status = await printed(() => runStatusCommand(url, id, { token }));
    expect(status).toEqual({ code: 0, out: [`run ${id}: cancelled (cancelled by ${by} before it started), study tiny`] });
    const view = await new CoordinatorClient(url, { token }).run(id);
    expect(await printed(async () => printRunEnd(view))).toEqual({ code: 1, out: [`run ${id} cancelled by ${by} before it started`] });
  });

  it('asks a running run to stop; run status shows the request while it runs', async () => {
    const id = c.store.createRun(config, hashConfig(config)).id;
    c.store.markRunning(id);
    const res = await printed(() => runCancelCommand(url, id, { token }));
    expect(res).toEqual({ code: 0, out: [`run ${id} running: asked to stop; its round in flight is dropped and it ends cancelled (see fedrx run status ${id})`] });
    const status = await printed(() => runStatusCommand(url, id, { token }));
    expect(status.out[0]).toMatch(new RegExp(`^run ${id}: running \\(cancel requested by ${by.replace(/[()]/g, '\\$&')} at \\d{4}-.*Z\\), study tiny$`));
    c.store.endCancelledRun(id);
  });

  it('a finished run: a real fedrx process exits 1 with E_RUN_FINISHED', async () => {
    const id = c.store.createRun(config, hashConfig(config)).id;
    c.store.endRun(id, 'completed');
    const r = await runFedrx(['run', 'cancel', id, '--coordinator', url], { FEDRX_TOKEN: token });
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `error E_RUN_FINISHED: run ${id} has already ended (completed): nothing to cancel\n`]);
    expect(c.store.getRun(id)!.status).toBe('completed');
  });
});
