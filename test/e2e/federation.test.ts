// End to end: a real coordinator process and three real agent processes on loopback train a
// model over several rounds; the ledger verifies and every site's replica equals it; a
// prediction names the last model and is audit-logged; the CLI calls the API with a role's token;
// a tampered ledger is caught by the CLI and at start-up.

import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readReplicaDir } from '../../site-agent/replica.js';
import { LISTENING, spawnFedrx } from '../../cli/spawn.js';
import { tempDir } from '../helpers/temp.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
afterAll(async () => {
  await fed?.stop();
});

const PATIENT = { age_years: 58, sex: 'M', height_cm: 180, weight_kg: 90, ancestry: 'White', cyp2c9: '*1/*1', vkorc1_1639: 'G/G', amiodarone: '0', enzyme_inducer: '0' };

describe('federation end to end', () => {
  it('trains over rounds, keeps one verifiable ledger replicated at every site, and serves predictions', async () => {
    const dir = tempDir('e2e');
    fed = await startFederation(dir, { sites: 3 });
    const started = await fed.clients['data-scientist'].startRun({ rounds: 4, minSites: 3, roundTimeoutSec: 60 });
    const run = await fed.clients['data-scientist'].follow(started.id, () => {});
    expect(run.status, run.error ?? '').toBe('completed');

    const committed = run.rounds.filter((r) => r.status === 'committed');
    expect(committed.map((r) => r.round)).toEqual([0, 1, 2, 3, 4]);
    for (const r of committed.slice(1)) {
      expect(r.metrics.sites).toBe(3);
      expect(r.sites.every((s) => s.status === 'accepted')).toBe(true);
    }
    // The global (example-weighted, held-out) loss falls.
    const loss = committed.slice(1).map((r) => r.metrics.evalLoss!);
    expect(loss[3]!).toBeLessThan(loss[0]!);
    expect(committed[4]!.metrics.evalMetric!).toBeLessThan(committed[1]!.metrics.evalMetric!);

    const chain = await fed.clients.auditor.ledger();
    expect(chain.entries.map((e) => e.round)).toEqual([0, 1, 2, 3, 4]);
    expect(chain.entries.map((e) => e.modelHash)).toEqual(committed.map((r) => r.modelHash));
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true, length: 5, headHash: chain.headHash });
    for (const e of chain.entries.slice(1)) {
      expect(e.participants.map((p) => p.siteId).sort()).toEqual(['site-1', 'site-2', 'site-3']);
    }

    // Each site's own replica holds the same chain, entry for entry.
    for (const s of fed.sites) {
      let replica = (await readReplicaDir(fed.replicaDir(s.siteId))).entries;
      for (let i = 0; i < 50 && replica.length < chain.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        replica = (await readReplicaDir(fed.replicaDir(s.siteId))).entries;
      }
      expect(replica).toEqual(chain.entries);
    }

    const p = await fed.clients.clinician.predict({ features: PATIENT });
    expect(p.modelHash).toBe(committed[4]!.modelHash);
    expect(p.ledgerIndex).toBe(4);
    expect(p.entryHash).toBe(chain.headHash);
    expect(p.unit).toBe('mg/week');
    expect(Number(p.prediction)).toBeGreaterThan(15);
    expect(Number(p.prediction)).toBeLessThan(90);
    const audit = (await fed.clients.auditor.auditLog()).entries;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ tokenId: fed.tokenIds.clinician, role: 'clinician', route: '/v1/predict', modelHash: p.modelHash, ledgerIndex: 4, rows: 1 });

    // The CLI's API commands take the token from FEDRX_TOKEN or --token; a wrong role is refused.
    const status = (token: string) => spawnFedrx('run-status', ['run', 'status', run.id, '--coordinator', fed!.url], { env: { FEDRX_TOKEN: token } });
    const asScientist = status(fed.tokens['data-scientist']);
    expect(await asScientist.exited).toBe(0);
    expect(asScientist.lines.join('\n')).toContain(`run ${run.id}: completed`);
    const asClinician = status(fed.tokens.clinician);
    expect(await asClinician.exited).toBe(1);
    expect(asClinician.lines.join('\n')).toMatch(/E_FORBIDDEN: role clinician may not call GET \/v1\/runs\/:id/);
    const patientFile = join(dir, 'patient.json');
    writeFileSync(patientFile, JSON.stringify(PATIENT));
    const cliPredict = await fedrxCommand(['predict', '--coordinator', fed.url, '--input', patientFile, '--token', fed.tokens.clinician]);
    expect(cliPredict.code).toBe(0);
    expect(cliPredict.lines.join('\n')).toContain(p.modelHash);
    expect((await fed.clients.auditor.auditLog()).entries).toHaveLength(2);

    const verify = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(verify.code).toBe(0);
    expect(verify.lines.join('\n')).toContain(chain.headHash);

    // Tamper: edit a committed row behind the triggers while the coordinator is down.
    await fed.stop();
    const db = new Database(fed.db);
    db.exec('DROP TRIGGER ledger_no_update');
    db.prepare(`UPDATE ledger SET participants_json = replace(participants_json, '"site-2"', '"site-9"') WHERE idx = 2`).run();
    db.close();
    const broken = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(broken.code).not.toBe(0);
    expect(broken.lines.join('\n')).toMatch(/BROKEN at entry 2/);

    const refused = spawnFedrx('coordinator', ['coordinator', '--db', fed.db, '--port', '0']);
    expect(await refused.exited).not.toBe(0);
    expect(refused.lines.join('\n')).toMatch(/E_LEDGER_BROKEN.*entry 2/);

    const readOnly = spawnFedrx('coordinator', ['coordinator', '--db', fed.db, '--port', '0', '--read-only']);
    const url = (await readOnly.waitFor(LISTENING))[1]!;
    // Tokens live in the database, so the investigator's auditor token still works.
    expect((await fetch(`${url}/v1/ledger/verify`)).status).toBe(401);
    const check = (await fetch(`${url}/v1/ledger/verify`, { headers: { authorization: `Bearer ${fed.tokens.auditor}` } }).then((r) => r.json())) as { ok: boolean; badIndex: number };
    expect(check).toMatchObject({ ok: false, badIndex: 2 });
    // The investigator reads the runs and sites; nothing can be started, enrolled or predicted.
    const auditor = { authorization: `Bearer ${fed.tokens.auditor}` };
    const runs = (await fetch(`${url}/v1/runs`, { headers: auditor }).then((r) => r.json())) as { runs: { id: string; status: string }[] };
    expect(runs.runs).toEqual([expect.objectContaining({ id: run.id, status: 'completed' })]);
    const detail = (await fetch(`${url}/v1/runs/${run.id}`, { headers: auditor }).then((r) => r.json())) as { rounds: unknown[] };
    expect(detail.rounds.length).toBeGreaterThan(1);
    const siteList = (await fetch(`${url}/v1/sites`, { headers: auditor }).then((r) => r.json())) as { sites: { id: string; connected: boolean }[] };
    expect(siteList.sites.map((s) => [s.id, s.connected])).toEqual([['site-1', false], ['site-2', false], ['site-3', false]]);
    const start = await fetch(`${url}/v1/runs`, { method: 'POST', headers: { authorization: `Bearer ${fed.tokens['data-scientist']}`, 'content-type': 'application/json' }, body: '{}' });
    expect([start.status, ((await start.json()) as { error: { code: string } }).error.code]).toEqual([503, 'E_READ_ONLY']);
    await readOnly.stop();
  });
});
