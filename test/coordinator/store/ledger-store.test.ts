// The ledger table in a real SQLite file: triggers refuse edits; an edit that bypasses them is
// caught by verification, named by index, and the coordinator refuses to start on it.

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCoordinator } from '../../../coordinator/app.js';
import { openDb } from '../../../coordinator/store/db.js';
import { Store } from '../../../coordinator/store/store.js';
import { TokenStore } from '../../../coordinator/trust/token-store.js';
import { hashConfig } from '../../../shared/ledger.js';
import { signHead } from '../../../shared/ledger-head.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../../coordinator/run-config-schema.js';
import { isFedrxError } from '../../../shared/errors.js';
import { tempDir } from '../../helpers/temp.js';
import { generateKeyPair } from '../../../shared/signing.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

const KEY = generateKeyPair();

function ledgerWithRounds(file: string, rounds: number): void {
  const store = new Store(openDb(file), KEY);
  const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };
  const run = store.createRun(config, hashConfig(config));
  let parent: string | null = null;
  for (let round = 0; round < rounds; round++) {
    const weights = [{ name: 'w', shape: [2], data: new Float32Array([round, round + 1]) }];
    const modelHash = hashWeights(weights);
    store.commitRound({
      runId: run.id, round, startedAt: new Date().toISOString(), modelHash, weights, metrics: { evalLoss: 1 / (round + 1) }, sites: [], state: { progress: '{}', strategy: null }, bestRound: round,
      entry: { parentModelHash: parent, participants: round === 0 ? [] : [{ siteId: 'site-a', numExamples: 7, updateHash: 'c'.repeat(64), signature: 'd'.repeat(128) }], configHash: run.configHash },
    });
    parent = modelHash;
  }
  store.db.close();
}

describe('ledger store', () => {
  it('appends a verifiable chain, one entry per committed round', () => {
    const file = join(tempDir('ledger'), 'c.sqlite');
    ledgerWithRounds(file, 4);
    const store = new Store(openDb(file));
    const check = store.ledger.verify();
    expect(check).toMatchObject({ ok: true, length: 4 });
    const entries = store.ledger.list();
    expect(entries.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(entries[2]!.prevHash).toBe(entries[1]!.entryHash);
    expect(check.ok && check.headHash).toBe(entries[3]!.entryHash);
    store.db.close();
  });

  it("keeps an entry's children as they were sealed: read back, it verifies with the same hash", () => {
    const file = join(tempDir('ledger'), 'c.sqlite');
    ledgerWithRounds(file, 1);
    const store = new Store(openDb(file), KEY);
    const region = generateKeyPair();
    const children = [{ siteId: 'site-a', head: signHead({ length: 3, headHash: 'e'.repeat(64) }, region) }];
    const appended = store.ledger.append({
      runId: 'run-x', round: 1, modelHash: 'f'.repeat(64), parentModelHash: store.ledger.get(0)!.modelHash, metrics: {}, createdAt: new Date().toISOString(), configHash: 'a'.repeat(64),
      participants: [{ siteId: 'site-a', numExamples: 7, updateHash: 'c'.repeat(64), signature: 'd'.repeat(128) }], children,
    });
    expect(store.ledger.get(1)).toEqual(appended);
    expect(store.ledger.get(1)!.children).toEqual(children);
    expect(store.ledger.get(0)!.children).toBeUndefined();
    expect(store.ledger.verify()).toMatchObject({ ok: true, length: 2, headHash: appended.entryHash });
    store.db.close();
  });

  it('refuses UPDATE and DELETE through its triggers', () => {
    const file = join(tempDir('ledger'), 'c.sqlite');
    ledgerWithRounds(file, 2);
    const db = new Database(file);
    expect(() => db.prepare(`UPDATE ledger SET metrics_json = '{}' WHERE idx = 1`).run()).toThrow(/E_LEDGER_APPEND_ONLY/);
    expect(() => db.prepare('DELETE FROM ledger WHERE idx = 1').run()).toThrow(/E_LEDGER_APPEND_ONLY/);
    db.close();
  });

  it('names the index of a row edited behind the triggers; the coordinator refuses it unless read-only', async () => {
    const file = join(tempDir('ledger'), 'c.sqlite');
    ledgerWithRounds(file, 4);
    const db = new Database(file);
    db.exec('DROP TRIGGER ledger_no_update');
    db.prepare(`UPDATE ledger SET metrics_json = '{"evalLoss":0.1}' WHERE idx = 2`).run();
    db.close();

    // Tokens can be created beside a broken chain, and the read-only coordinator honours them.
    const writable = openDb(file);
    const auditor = { authorization: `Bearer ${new TokenStore(writable).create('auditor').token}` };
    const scientist = { authorization: `Bearer ${new TokenStore(writable).create('data-scientist').token}` };
    writable.close();

    const store = new Store(openDb(file, { readonly: true }));
    expect(store.ledger.verify()).toMatchObject({ ok: false, badIndex: 2, reason: expect.stringMatching(/entryHash/) });
    store.db.close();

    const err = await buildCoordinator({ db: file, log: () => {} }).catch((e: unknown) => e);
    expect(isFedrxError(err, 'E_LEDGER_BROKEN')).toBe(true);
    expect((err as Error).message).toMatch(/entry 2/);

    const ro = await buildCoordinator({ db: file, log: () => {}, readOnly: true });
    const verify = await ro.app.inject({ url: '/v1/ledger/verify', headers: auditor });
    expect(verify.json()).toMatchObject({ ok: false, badIndex: 2 });
    expect((await ro.app.inject({ url: '/v1/ledger/verify' })).json().error.code).toBe('E_UNAUTHENTICATED');
    expect((await ro.app.inject({ method: 'POST', url: '/v1/runs', payload: {}, headers: scientist })).json().error.code).toBe('E_READ_ONLY');
    // The refusing stubs keep their roles: an auditor may not start a run even there.
    expect((await ro.app.inject({ method: 'POST', url: '/v1/runs', payload: {}, headers: auditor })).json().error.code).toBe('E_FORBIDDEN');
    await ro.close();
  });
});
