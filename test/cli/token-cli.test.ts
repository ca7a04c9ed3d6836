// `fedrx token create` as a real child process: stdout is the token alone (so `T=$(…)` works),
// stderr names its id and role, and the coordinator accepts the token for that role only.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCoordinator } from '../../coordinator/app.js';
import { TOKEN_PATTERN } from '../../coordinator/trust/token-store.js';
import { FEDRX_BIN } from '../../cli/spawn.js';
import { tempDir } from '../helpers/temp.js';

const fedrx = (args: string[]) => spawnSync(process.execPath, [FEDRX_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('fedrx token create', () => {
  it('prints only the token on stdout; the coordinator accepts it for its role', async () => {
    const db = join(tempDir('token-cli'), 'c.sqlite');
    const out = fedrx(['token', 'create', '--db', db, '--role', 'auditor', '--label', 'external audit']);
    expect(out.status, out.stderr).toBe(0);
    const token = out.stdout.trimEnd();
    expect(out.stdout).toBe(`${token}\n`);
    expect(token).toMatch(TOKEN_PATTERN);
    const note = out.stderr.trim();
    expect(note.split('\n')).toHaveLength(1);
    expect(note).toMatch(/^created API token tok-[0-9a-f]{12} \(role auditor, label external audit\)/);
    expect(note).not.toContain(token);

    const c = await buildCoordinator({ db, log: () => {} });
    try {
      const headers = { authorization: `Bearer ${token}` };
      const ok = await c.app.inject({ url: '/v1/ledger/verify', headers });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ ok: true, length: 0 });
      const refused = await c.app.inject({ method: 'POST', url: '/v1/predict', headers, payload: { features: {} } });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('E_FORBIDDEN');
      expect(c.tokens.list()).toEqual([expect.objectContaining({ id: note.match(/tok-[0-9a-f]{12}/)![0], role: 'auditor', label: 'external audit', revokedAt: null })]);
    } finally {
      await c.close();
    }
  });

  it('refuses an unknown role and prints no token', () => {
    const out = fedrx(['token', 'create', '--db', join(tempDir('token-cli'), 'c.sqlite'), '--role', 'root']);
    expect(out.status).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/admin, data-scientist, clinician, auditor/);
  });
});
