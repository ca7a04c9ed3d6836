// End to end over TLS: a certificate made by `fedrx tls cert` in the test, a coordinator serving
// HTTPS/WSS with it, three agents that trust and pin it, and a fourth agent pinned to another
// certificate that never connects while the others train. The CLI reaches the API over HTTPS.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import { CoordinatorClient } from '../../cli/client/client.js';
import { tempDir } from '../helpers/temp.js';
import { makeTestCert } from '../helpers/tls-cert.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
let rogue: FedrxProcess | undefined;
afterAll(async () => {
  await rogue?.stop();
  await fed?.stop();
});

const PATIENT = { age_years: 58, sex: 'M', height_cm: 180, weight_kg: 90, ancestry: 'White', cyp2c9: '*1/*1', vkorc1_1639: 'G/G', amiodarone: '0', enzyme_inducer: '0' };
const WSS = /connected to wss:\/\/127\.0\.0\.1:\d+\/v1\/agents/;

describe('federation over TLS', () => {
  it('trains over wss with pinned agents, refuses an agent pinned to another certificate, serves https only', { timeout: 180_000 }, async () => {
    const dir = tempDir('e2e-tls');
    const cert = await makeTestCert(join(dir, 'tls'));
    const stranger = await makeTestCert(join(dir, 'stranger'));
    fed = await startFederation(dir, { sites: 3, tls: cert });
    expect(fed.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(fed.coordinator.lines.join('\n')).toContain(`TLS certificate SHA-256 fingerprint ${cert.fingerprint}`);
    for (const a of fed.agents.values()) {
      await a.waitFor(WSS, 10_000);
      expect(a.lines.join('\n')).toContain(`coordinator certificate pinned: SHA-256 ${cert.fingerprint}`);
    }

    // A registered site whose agent pins another certificate: it must never get as far as hello.
    const key4 = join(dir, 'sites', 'site-4-key');
    expect((await fedrxCommand(['site', 'init', '--out', key4])).code).toBe(0);
    const added = await fedrxCommand(['site', 'register', '--db', fed.db, '--site', 'site-4', '--public-key', join(key4, 'site.pub')]);
    expect(added.code).toBe(0);
    rogue = spawnFedrx('site-4', [
      'agent', '--coordinator', fed.url, '--site', 'site-4', '--data', fed.sites[0]!.file, '--key', key4,
      '--replica-dir', join(dir, 'replicas', 'site-4'), '--tls-ca', cert.certFile, '--tls-pin', stranger.fingerprint,
    ], { logFile: join(dir, 'logs', 'site-4.log') });
    await rogue.waitFor(/TLS PIN MISMATCH/, 60_000);

    const started = await fed.clients['data-scientist'].startRun({ rounds: 2, minSites: 3, roundTimeoutSec: 60 });
    const run = await fed.clients['data-scientist'].follow(started.id, () => {});
    expect(run.status, run.error ?? '').toBe('completed');
    const committed = run.rounds.filter((r) => r.status === 'committed');
    expect(committed.map((r) => r.round)).toEqual([0, 1, 2]);
    for (const r of committed.slice(1)) expect(r.sites.map((s) => `${s.siteId}:${s.status}`).sort()).toEqual(['site-1:accepted', 'site-2:accepted', 'site-3:accepted']);

    // The pinned-elsewhere agent kept retrying and was never connected.
    const sites = (await fed.clients.auditor.sites()).sites;
    expect(sites.filter((s) => s.connected).map((s) => s.id).sort()).toEqual(['site-1', 'site-2', 'site-3']);
    expect(sites.find((s) => s.id === 'site-4')).toMatchObject({ connected: false });
    const mismatches = rogue.lines.filter((l) => l.includes('TLS PIN MISMATCH'));
    expect(mismatches.length).toBeGreaterThanOrEqual(2);
    expect(mismatches[0]).toContain(`presented certificate SHA-256 ${cert.fingerprint}, expected ${stranger.fingerprint}`);
    expect(rogue.lines.some((l) => WSS.test(l))).toBe(false);
    expect(rogue.child.exitCode).toBeNull();
    expect(fed.coordinator.lines.join('\n')).not.toMatch(/site-4/);

    // The ledger verifies, over the API and from the file.
    const chain = await fed.clients.auditor.ledger();
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true, length: 3, headHash: chain.headHash });
    const verify = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(verify.code).toBe(0);
    expect(verify.lines.join('\n')).toContain(chain.headHash);

    // The CLI over https: the CA from FEDRX_TLS_CA or from --tls-ca.
    const patient = join(dir, 'patient.json');
    writeFileSync(patient, JSON.stringify(PATIENT));
    const predict = spawnFedrx('predict', ['predict', '--coordinator', fed.url, '--input', patient], { env: { FEDRX_TLS_CA: cert.certFile, FEDRX_TOKEN: fed.tokens.clinician } });
    expect(await predict.exited, predict.lines.join('\n')).toBe(0);
    const answer = JSON.parse(predict.lines.join('\n')) as { modelHash: string; ledgerIndex: number; unit: string; prediction: number };
    expect(answer).toMatchObject({ modelHash: committed[2]!.modelHash, ledgerIndex: 2, unit: 'mg/week' });
    expect(answer.prediction).toBeGreaterThan(5);
    const status = spawnFedrx('status', ['run', 'status', run.id, '--coordinator', fed.url, '--tls-ca', cert.certFile], { env: { FEDRX_TLS_CA: '', FEDRX_TOKEN: fed.tokens.auditor } });
    expect(await status.exited, status.lines.join('\n')).toBe(0);
    expect(status.lines[0]).toBe(`run ${run.id}: completed, serves round ${run.config.rounds}, study synthetic-warfarin`);
    const untrusted = spawnFedrx('predict', ['predict', '--coordinator', fed.url, '--input', patient], { env: { FEDRX_TLS_CA: '', FEDRX_TOKEN: fed.tokens.clinician } });
    expect(await untrusted.exited).toBe(1);
    expect(untrusted.lines.join('\n')).toMatch(/^error E_TLS_UNTRUSTED: cannot reach the coordinator at https:.*--tls-ca/m);

    // The port speaks TLS only: a plain http request gets nothing.
    const plain = fed.url.replace('https:', 'http:');
    await expect(new CoordinatorClient(plain).health()).rejects.toMatchObject({ code: 'E_INTERNAL', message: /use an https:\/\/ URL/ });
    await expect(fetch(`${plain}/healthz`)).rejects.toThrow();
  });

  it('refuses half a TLS configuration and a pin for a plain http coordinator, at start', async () => {
    const dir = tempDir('e2e-tls-config');
    const cert = await makeTestCert(join(dir, 'tls'));
    const half = spawnFedrx('coordinator', ['coordinator', '--db', join(dir, 'c.sqlite'), '--port', '0', '--tls-cert', cert.certFile]);
    const plainPin = spawnFedrx('agent', ['agent', '--coordinator', 'http://127.0.0.1:9', '--site', 'site-1', '--data', join(dir, 'none.csv'), '--key', join(dir, 'no-key'), '--tls-pin', cert.fingerprint]);
    expect(await half.exited).toBe(1);
    expect(half.lines.join('\n')).toMatch(/^error E_TLS_CONFIG: --tls-cert and --tls-key go together/m);
    expect(await plainPin.exited).toBe(1);
    expect(plainPin.lines.join('\n')).toMatch(/^error E_TLS_CONFIG: --tls-ca and --tls-pin need an https:\/\/ coordinator URL/m);
  });
});
