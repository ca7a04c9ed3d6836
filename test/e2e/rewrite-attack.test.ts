// End to end, the threat the endorsed ledger exists for: a coordinator (here, whoever holds its
// database and its signing key) rewrites an earlier entry, recomputes every hash after it and
// re-signs them with its own key. The chain then checks out on its own; the sites' endorsements
// and replicas still give it away, and the agents refuse the rewritten chain and say so.

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import { headFileOf, writeHeadFile } from '../../coordinator/store/head-file.js';
import { readKeyPair } from '../../shared/key-files.js';
import { computeEntryHash, type LedgerEntry } from '../../shared/ledger.js';
import { entryBody, sign } from '../../shared/signing.js';
import { tempDir } from '../helpers/temp.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
let restarted: FedrxProcess | undefined;
afterAll(async () => {
  await restarted?.stop();
  await fed?.stop();
});

/**
 * What a dishonest coordinator can do with its own database and key: rewrite entry `from`, re-seal
 * everything after it, and sign the new head into the head file beside the database.
 */
function rewriteFrom(dbFile: string, keyDir: string, from: number, edit: (e: LedgerEntry) => void): void {
  const key = readKeyPair(keyDir, 'coordinator');
  const db = new Database(dbFile);
  db.exec('DROP TRIGGER ledger_no_update');
  const rows = db.prepare('SELECT * FROM ledger ORDER BY idx').all() as Record<string, string | number | null>[];
  let prev = rows[from - 1]!.entry_hash as string;
  for (const r of rows.slice(from)) {
    const entry = {
      index: r.idx, prevHash: prev, runId: r.run_id, round: r.round, modelHash: r.model_hash, parentModelHash: r.parent_model_hash,
      participants: JSON.parse(String(r.participants_json)), configHash: r.config_hash, metrics: JSON.parse(String(r.metrics_json)),
      // Every field the entry holds is re-sealed, the optional sections too (the conformal quantile, a secure sum).
      ...(r.conformal_json === null ? {} : { conformal: JSON.parse(String(r.conformal_json)) }),
      ...(r.secure_json === null ? {} : { secure: JSON.parse(String(r.secure_json)) }),
      createdAt: r.created_at, coordinatorKey: r.coordinator_key,
    } as LedgerEntry;
    if (r.idx === from) edit(entry);
    const entryHash = computeEntryHash(entry);
    db.prepare('UPDATE ledger SET prev_hash = ?, metrics_json = ?, entry_hash = ?, coordinator_signature = ? WHERE idx = ?')
      .run(prev, JSON.stringify(entry.metrics), entryHash, sign('entry', entryBody(entryHash), key.secretKey), r.idx);
    prev = entryHash;
  }
  db.close();
  writeHeadFile(headFileOf(dbFile)!, { length: rows.length, headHash: prev }, key);
}

async function until(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a coordinator that rewrites history', () => {
  it('is caught by the endorsements and the replicas, and refused by the agents', async () => {
    fed = await startFederation(tempDir('e2e-rewrite'), { sites: 3 });
    const started = await fed.clients['data-scientist'].startRun({ rounds: 3, minSites: 3, roundTimeoutSec: 60 });
    const run = await fed.clients['data-scientist'].follow(started.id, () => {});
    expect(run.status, run.error ?? '').toBe('completed');
    // Every entry gets endorsed by its participants.
    await until(async () => (await fed!.clients.auditor.verifyLedger()).unendorsed.length === 0, 'all entries endorsed');
    const honest = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(honest.code, honest.lines.join('\n')).toBe(0);
    expect(honest.lines.join('\n')).toMatch(/ledger intact: 4 entries.*4 of 4 endorsed/);

    // The coordinator goes down; its operator improves round 2's reported MAE and re-seals the chain.
    const port = new URL(fed.url).port;
    await fed.coordinator.stop();
    rewriteFrom(fed.db, join(fed.dir, 'coordinator-key'), 2, (e) => {
      e.metrics = { ...e.metrics, evalMetric: 1.0 };
    });

    // Hashes, links and coordinator signatures all check out now; the endorsements do not.
    const caught = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(caught.code).toBe(2);
    expect(caught.lines.join('\n')).toMatch(/ledger BROKEN at entry 2: endorsement by site-\d: endorses another entry hash/);
    // Each site's replica still verifies on its own and shows where the coordinator parts from it.
    const replica = fed.replicaDir('site-1');
    expect((await fedrxCommand(['ledger', 'verify', '--replica', replica])).code).toBe(0);
    const diff = await fedrxCommand(['ledger', 'diff', '--replica', replica, '--db', fed.db]);
    expect(diff.code).toBe(1);
    const diffText = diff.lines.join('\n');
    expect(diffText).toMatch(/identical for the first 2/);
    expect(diffText).toMatch(/FIRST DISAGREEMENT at entry 2/);
    expect(diffText).toMatch(/metrics\.evalMetric:\s+replica:\s+[\d.]+\s+coordinator: 1\n/);

    // A smarter operator also deletes the endorsements it cannot forge: the entries are then unendorsed.
    const db = new Database(fed.db);
    db.exec('DROP TRIGGER endorsements_no_delete');
    db.prepare('DELETE FROM endorsements WHERE entry_index >= 2').run();
    db.close();
    const stripped = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(stripped.code).toBe(3);
    expect(stripped.lines.join('\n')).toMatch(/not \(yet\) endorsed by a quorum of their participants: #2, #3/);

    // The coordinator comes back with the rewritten chain: every agent refuses it, says so, and stays away.
    restarted = spawnFedrx('coordinator', ['coordinator', '--db', fed.db, '--port', port], { logFile: join(fed.dir, 'logs', 'coordinator-rewritten.log') });
    await restarted.waitFor(LISTENING);
    for (const [siteId, agent] of fed.agents) {
      await agent.waitFor(/LEDGER DIVERGENCE at entry 3: coordinator ledger head differs/, 30_000);
      await restarted.waitFor(new RegExp(`site ${siteId} disputes ledger entry #3: E_REPLICA_DIVERGED`), 10_000);
    }
    await until(async () => (await fed!.clients.auditor.sites()).sites.every((s) => !s.connected), 'every site to leave');
    const disputes = await fed.clients.auditor.endorsements();
    expect(disputes.disputes.map((d) => d.siteId).sort()).toEqual(['site-1', 'site-2', 'site-3']);
  }, 120_000);
});
