// The prediction audit log on a real app and SQLite file: one row per answered prediction request
// with who, which model and an HMAC of the input; never the input; auditors read it, nobody edits it.

import Database from 'better-sqlite3';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import type { AuditEntry } from '../../../coordinator/trust/audit-log.js';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { tempDir } from '../../helpers/temp.js';
import { commitTinyModel } from '../../helpers/tiny-model.js';

const KEY = randomBytes(32);
// Distinctive values: none of them may appear in the log or anywhere in the database.
const PATIENT = { x1: 7.318294, g: 'b', patient_name: 'Zebedee Quaxworth', mrn: 'MRN-55719023' };
const hmac = (value: unknown): string => createHmac('sha256', KEY).update(canonicalJson(value)).digest('hex');

let c: Coordinator;
let file: string;
let model: { runId: string; modelHash: string; ledgerIndex: number };
let clinician: { id: string; headers: { authorization: string } };
let auditor: { authorization: string };

beforeAll(async () => {
  file = join(tempDir('audit'), 'c.sqlite');
  c = await buildCoordinator({ db: file, log: () => {}, auditKey: KEY });
  model = commitTinyModel(c.store);
  const t = c.tokens.create('clinician', 'dr-jones');
  clinician = { id: t.id, headers: { authorization: `Bearer ${t.token}` } };
  auditor = { authorization: `Bearer ${c.tokens.create('auditor').token}` };
});

afterAll(async () => {
  await c.close();
});

const predict = (url: string, payload: object) => c.app.inject({ method: 'POST', url, payload, headers: clinician.headers });
const auditRows = async (query = ''): Promise<AuditEntry[]> => {
  const res = await c.app.inject({ url: `/v1/audit/predictions${query}`, headers: auditor });
  expect(res.statusCode).toBe(200);
  return (res.json() as { entries: AuditEntry[] }).entries;
};

describe('prediction audit log', () => {
  it('records who, when, which model and the input HMAC of a prediction; never the input', async () => {
    const res = await predict('/v1/predict', { runId: model.runId, features: PATIENT });
    expect(res.statusCode).toBe(200);
    const rows = await auditRows();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toEqual({
      seq: 1,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      tokenId: clinician.id,
      role: 'clinician',
      route: '/v1/predict',
      runId: model.runId,
      round: 1,
      modelHash: model.modelHash,
      ledgerIndex: model.ledgerIndex,
      rows: 1,
      inputHash: hmac(PATIENT),
    });
    // Key order of the request does not change the hash (canonical JSON).
    expect(row.inputHash).toBe(hmac({ mrn: PATIENT.mrn, patient_name: PATIENT.patient_name, g: 'b', x1: PATIENT.x1 }));
    const json = JSON.stringify(rows);
    for (const v of ['7.318294', 'Zebedee', 'Quaxworth', 'MRN-55719023']) expect(json).not.toContain(v);
    // Nor anywhere in the database files.
    for (const f of [file, `${file}-wal`].filter(existsSync)) {
      const bytes = readFileSync(f);
      for (const v of ['Zebedee', 'MRN-55719023']) expect(bytes.includes(v)).toBe(false);
    }
  });

  it('records a batch as one row over its rows array', async () => {
    const rows = [PATIENT, { x1: 1, g: 'a' }, { g: 'a' }];
    const res = await predict('/v1/predict/batch', { modelHash: model.modelHash, rows });
    expect(res.statusCode).toBe(200);
    const last = (await auditRows()).at(-1)!;
    expect(last).toMatchObject({ route: '/v1/predict/batch', tokenId: clinician.id, modelHash: model.modelHash, rows: 3, inputHash: hmac(rows) });
  });

  it('writes nothing for a request that was not answered', async () => {
    const before = (await auditRows()).length;
    expect((await predict('/v1/predict', { modelHash: 'f'.repeat(64), features: PATIENT })).json().error.code).toBe('E_NO_MODEL');
    expect((await predict('/v1/predict', { runId: model.runId, features: { g: 'a' } })).json().error.code).toBe('E_MISSING_FEATURE');
    expect(await auditRows()).toHaveLength(before);
  });

  it('is read by auditors only, with from and limit', async () => {
    expect((await auditRows('?from=2&limit=1')).map((r) => r.seq)).toEqual([2]);
    const asClinician = await c.app.inject({ url: '/v1/audit/predictions', headers: clinician.headers });
    expect(asClinician.statusCode).toBe(403);
    expect(asClinician.json().error.code).toBe('E_FORBIDDEN');
    expect((await c.app.inject({ url: '/v1/audit/predictions?limit=0', headers: auditor })).json().error.code).toBe('E_BAD_REQUEST');
  });

  it('refuses UPDATE and DELETE through its triggers', () => {
    const db = new Database(file);
    expect(() => db.prepare(`UPDATE prediction_audit SET token_id = 'tok-000000000000' WHERE seq = 1`).run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM prediction_audit WHERE seq = 1').run()).toThrow(/append-only/);
    db.close();
  });
});

describe('audit key', () => {
  it('without auditKey, creates audit.key (0600) beside the database and keeps it across restarts', async () => {
    const dir = tempDir('audit-key');
    const db = join(dir, 'c.sqlite');
    const hashOnce = async (): Promise<string> => {
      const k = await buildCoordinator({ db, log: () => {} });
      try {
        const m = commitTinyModel(k.store);
        const t = k.tokens.create('clinician');
        await k.app.inject({ method: 'POST', url: '/v1/predict', headers: { authorization: `Bearer ${t.token}` }, payload: { runId: m.runId, features: { x1: 1, g: 'a' } } });
        return k.audit.list().at(-1)!.inputHash;
      } finally {
        await k.close();
      }
    };
    const first = await hashOnce();
    const keyFile = join(dir, 'audit.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile);
    expect(key.length).toBe(32);
    expect(first).toBe(createHmac('sha256', key).update(canonicalJson({ g: 'a', x1: 1 })).digest('hex'));
    expect(await hashOnce()).toBe(first);
  });

  it('refuses an auditKey that is not 32 bytes', async () => {
    await expect(buildCoordinator({ db: ':memory:', log: () => {}, auditKey: new Uint8Array(16) })).rejects.toThrow(/auditKey must be 32 bytes/);
  });
});
