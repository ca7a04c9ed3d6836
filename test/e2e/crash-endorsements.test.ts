// End to end: the coordinator is killed (SIGKILL) right after committing a round, before the sites'
// endorsements of that entry are stored. Restarted on the same database, it asks each site for the
// endorsements it lacks; the sites answer from their endorsements.jsonl (or check and endorse the
// entry afresh), and the entry ends up endorsed: `fedrx ledger verify --db` exits 0.

import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import { tempDir } from '../helpers/temp.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
let restarted: FedrxProcess | undefined;
afterAll(async () => {
  await restarted?.stop();
  await fed?.stop();
});

describe('a coordinator killed between a commit and its endorsements', () => {
  it('gets the lost endorsements re-sent by the sites after its restart', async () => {
    fed = await startFederation(tempDir('e2e-crash-endorse'), { sites: 3, patients: 450 });
    const port = new URL(fed.url).port;
    await fed.clients['data-scientist'].startRun({ rounds: 2, minSites: 3, roundTimeoutSec: 60 });
    const [, index] = (await fed.coordinator.waitFor(/round 2\/2: .* ledger #(\d+)/, 150_000)) as RegExpMatchArray & [string, string];
    fed.coordinator.child.kill('SIGKILL');
    await fed.coordinator.exited;
    const last = Number(index);

    // Endorsements that raced in before the kill are removed, so the test does not depend on timing:
    // what is stored now is what a crash a moment earlier would have left.
    const db = new Database(fed.db);
    db.exec('DROP TRIGGER endorsements_no_delete');
    db.prepare('DELETE FROM endorsements WHERE entry_index = ?').run(last);
    db.close();
    const before = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(before.code, before.lines.join('\n')).toBe(3);
    // (earlier entries may be short of endorsements too: those were in flight as well)
    expect(before.lines.join('\n')).toMatch(new RegExp(`not \\(yet\\) endorsed by a quorum of their participants: .*#${last}$`, 'm'));

    restarted = spawnFedrx('coordinator', ['coordinator', '--db', fed.db, '--port', port], { logFile: join(fed.dir, 'logs', 'coordinator-restarted.log') });
    await restarted.waitFor(LISTENING, 30_000);
    await restarted.waitFor(new RegExp(`ledger entry #${last} endorsed by \\d of 3 participants`), 60_000);
    // Every site's endorsement comes back, not only a quorum.
    const deadline = Date.now() + 30_000;
    let endorsedBy: string[] = [];
    while (Date.now() < deadline) {
      const status = (await fed.clients.auditor.endorsements()).entries.find((e) => e.index === last);
      endorsedBy = status?.endorsedBy ?? [];
      if (endorsedBy.length === 3) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(endorsedBy).toEqual(['site-1', 'site-2', 'site-3']);
    const after = await fedrxCommand(['ledger', 'verify', '--db', fed.db]);
    expect(after.code, after.lines.join('\n')).toBe(0);
    expect(after.lines.join('\n')).toMatch(new RegExp(`ledger intact: ${last + 1} entries.*${last + 1} of ${last + 1} endorsed`));
    // Each site kept exactly one endorsement of the entry: re-sent, not signed again.
    for (const siteId of ['site-1', 'site-2', 'site-3']) {
      const kept = readFileSync(join(fed.replicaDir(siteId), 'endorsements.jsonl'), 'utf8').split('\n').filter((l) => l.includes(`"index":${last},`));
      expect(kept, siteId).toHaveLength(1);
    }
  }, 240_000);
});
