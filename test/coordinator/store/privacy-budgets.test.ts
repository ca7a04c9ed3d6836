import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { privacyReport } from '../../../coordinator/privacy/privacy-report.js';
import { openDb } from '../../../coordinator/store/db.js';
import { Store } from '../../../coordinator/store/store.js';
import { verifyChain } from '../../../shared/ledger.js';
import { thrownCode } from '../../helpers/error-code.js';
import { signedLedger } from '../../helpers/signed-ledger.js';
import { tempDir } from '../../helpers/temp.js';

describe('privacy budgets and a database made before DP', () => {
  it('keeps every budget change, append-only; the latest one counts, null lifts it', () => {
    const { store } = signedLedger(join(tempDir('budgets'), 'c.sqlite'), 1);
    store.budgets.set('site-a', 3, 'admin ops (tok-1)');
    store.budgets.set('site-b', 1, 'admin ops (tok-1)');
    store.budgets.set('site-a', null, 'admin ops (tok-2)');
    expect([...store.budgets.current().keys()]).toEqual(['site-b']);
    expect(store.budgets.history().map((c) => [c.siteId, c.epsilon, c.setBy])).toEqual([
      ['site-a', 3, 'admin ops (tok-1)'],
      ['site-b', 1, 'admin ops (tok-1)'],
      ['site-a', null, 'admin ops (tok-2)'],
    ]);
    expect(thrownCode(() => store.budgets.set('site-a', 0, 'x'))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => store.budgets.set('nobody', 1, 'x'))).toBe('E_NOT_FOUND');
    expect(() => store.db.prepare('DELETE FROM privacy_budgets').run()).toThrow(/append-only/);
    store.db.close();
  });

  it('reads, verifies and reports an older chain, read-only before migration and after it', () => {
    const file = join(tempDir('pre-dp'), 'c.sqlite');
    const { store, entries } = signedLedger(file, 2);
    store.db.close();
    // What a database from before DP looks like: no privacy column, no budgets table.
    const raw = new Database(file);
    raw.exec('ALTER TABLE ledger DROP COLUMN privacy_json; DROP TABLE privacy_budgets;');
    raw.close();

    const readOnly = new Store(openDb(file, { readonly: true }));
    expect(readOnly.ledger.list()).toEqual(entries);
    expect(verifyChain(readOnly.ledger.inOrder())).toMatchObject({ ok: true, length: 3 });
    expect(privacyReport(readOnly)).toMatchObject({ runs: [], budgetChanges: [] });
    expect(privacyReport(readOnly).sites.map((s) => [s.siteId, s.nonPrivateRounds, s.epsilon])).toEqual([['site-a', 2, 0], ['site-b', 2, 0]]);
    readOnly.db.close();

    const migrated = new Store(openDb(file));
    expect(verifyChain(migrated.ledger.inOrder())).toMatchObject({ ok: true, length: 3 });
    expect(migrated.budgets.current().size).toBe(0);
    migrated.db.close();
  });
});
