// `fedrx ledger verify` and `fedrx ledger diff`: an auditor's view of the coordinator's database or
// a site's replica, one line per entry. Exit codes: 0 intact and endorsed, 2 broken (the first bad
// index is named), 3 intact but some entries below their endorsement quorum.

import { withStore } from './admin.js';
import { apiClient } from './remote-commands.js';
import { headFileOf, readHeadFile } from '../coordinator/store/head-file.js';
import { auditLedger, auditVerdict, type LedgerAudit } from '../coordinator/trust/ledger-audit.js';
import { isFedrxError } from '../shared/errors.js';
import { diffChains } from '../shared/ledger-diff.js';
import { headProblem } from '../shared/ledger-head.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { readReplicaDir } from '../site-agent/replica.js';
import { auditReplica } from '../site-agent/replica-audit.js';

export const EXIT_INTACT = 0;
export const EXIT_BROKEN = 2;
export const EXIT_UNENDORSED = 3;

const short = (h: string): string => h.slice(0, 12);
const row = (cells: (string | number)[], widths: number[]): string => cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ').trimEnd();

export function printDbAudit(a: LedgerAudit): number {
  const widths = [5, 14, 5, 12, 12, 16, 0];
  console.log(row(['#', 'run', 'round', 'model', 'participants', 'endorsements', 'status'], widths));
  for (const e of a.entries) {
    const status = e.problems.length > 0 ? `BAD: ${e.problems.join('; ')}` : e.endorsed ? 'endorsed' : 'awaiting endorsement';
    console.log(row([e.index, e.runId, e.round, short(e.modelHash), e.participants, `${e.endorsedBy.length}/${e.participants} (need ${e.required})`, status], widths));
  }
  console.log(`coordinator key${a.coordinatorKeys.length === 1 ? '' : 's'}: ${a.coordinatorKeys.join(', ') || '-'}`);
  const v = auditVerdict(a);
  if (!v.ok) {
    console.log(`ledger BROKEN at entry ${v.badIndex}: ${v.reason}`);
    return EXIT_BROKEN;
  }
  const endorsed = a.entries.length - v.unendorsed.length;
  console.log(`ledger intact: ${v.length} entries, head ${v.headHash}; ${endorsed} of ${a.entries.length} endorsed`);
  if (v.unendorsed.length > 0) {
    console.log(`not (yet) endorsed by a quorum of their participants: ${v.unendorsed.map((i) => `#${i}`).join(', ')}`);
    return EXIT_UNENDORSED;
  }
  return EXIT_INTACT;
}

export function verifyDb(dbFile: string): number {
  try {
    const headFile = headFileOf(dbFile)!;
    return withStore(dbFile, (store) => printDbAudit(auditLedger(store, { where: headFile, head: readHeadFile(headFile) })), { readonly: true });
  } catch (e) {
    if (!isFedrxError(e, 'E_DB_CORRUPT') && !isFedrxError(e, 'E_LEDGER_BROKEN')) throw e;
    // A file that cannot even be read (the database, or its head file): as broken as a ledger gets.
    console.log(`ledger BROKEN: ${e.message} (${e.code})`);
    return EXIT_BROKEN;
  }
}

export async function verifyReplica(dir: string): Promise<number> {
  const a = await auditReplica(dir);
  const site = a.meta.site?.siteId ?? 'unknown site';
  console.log(`replica of ${site} in ${dir}; pinned coordinator key ${a.meta.coordinatorKey ?? 'none'}`);
  const signed = a.meta.coordinatorHead;
  if (signed !== undefined) {
    const behind = signed.length > a.entries.length ? ' (this replica is behind it)' : '';
    console.log(`coordinator's signed head, kept ${signed.recordedAt}: ${signed.length} entries, head ${signed.headHash}${behind}`);
  }
  const widths = [5, 14, 5, 12, 12, 12, 0];
  console.log(row(['#', 'run', 'round', 'model', 'participated', 'endorsed', 'status'], widths));
  for (const e of a.entries) {
    const status = e.problems.length > 0 ? `BAD: ${e.problems.join('; ')}` : 'ok';
    console.log(row([e.index, e.runId, e.round, short(e.modelHash), e.participated ? 'yes' : 'no', e.participated ? (e.endorsed ? 'yes' : 'NO') : '-', status], widths));
  }
  if (a.firstBad !== null) {
    console.log(`replica BROKEN at entry ${a.firstBad.index}: ${a.firstBad.reason}`);
    return EXIT_BROKEN;
  }
  const chain = a.chain as { headHash: string; length: number };
  const missing = a.entries.filter((e) => e.participated && !e.endorsed).length;
  console.log(`replica intact: ${chain.length} entries, head ${chain.headHash}; this site endorsed ${a.entries.filter((e) => e.endorsed).length} of the ${a.entries.filter((e) => e.participated).length} it took part in`);
  return missing > 0 ? EXIT_UNENDORSED : EXIT_INTACT;
}

async function coordinatorChain(o: { db?: string; coordinator?: string; token?: string; tlsCa?: string }): Promise<{ name: string; entries: LedgerEntry[] }> {
  if (o.db !== undefined) {
    const file = o.db;
    return { name: file, entries: withStore(file, (s) => s.ledger.list(0, Number.MAX_SAFE_INTEGER), { readonly: true }) };
  }
  const client = apiClient(o.coordinator!, { token: o.token, tlsCa: o.tlsCa });
  const entries: LedgerEntry[] = [];
  for (;;) {
    const page = await client.ledger(entries.length, 1000);
    entries.push(...page.entries);
    if (page.entries.length === 0 || entries.length >= page.length) break;
  }
  return { name: o.coordinator!, entries };
}

/** Exit 0 when the replica and the coordinator agree (one may be behind), 1 when they part ways. */
export async function diffLedger(o: { replica: string; db?: string; coordinator?: string; token?: string; tlsCa?: string }): Promise<number> {
  const { entries: replica, meta } = await readReplicaDir(o.replica);
  const theirs = await coordinatorChain(o);
  const d = diffChains(replica, theirs.entries);
  console.log(`replica ${o.replica}: ${d.leftLength} entries; coordinator ${theirs.name}: ${d.rightLength} entries; identical for the first ${d.commonPrefix}`);
  // The coordinator signed this head to the site: fewer entries now, or another one there, is a cut or a rewrite.
  const cut = meta.coordinatorHead === undefined ? null : headProblem(meta.coordinatorHead, { length: theirs.entries.length, hashAt: (i) => theirs.entries[i]?.entryHash ?? null }, 'the coordinator head kept in replica.json');
  if (cut !== null) console.log(`COORDINATOR CONTRADICTS ITS SIGNED HEAD at entry ${cut.index}: ${cut.reason}`);
  if (d.firstDifference === null) {
    if (cut !== null) return 1;
    const behind = d.leftLength < d.rightLength ? 'the replica is behind' : d.leftLength > d.rightLength ? 'the coordinator holds fewer entries than the replica' : 'same chain';
    console.log(`no disagreement: ${behind}`);
    return d.leftLength > d.rightLength ? 1 : 0;
  }
  console.log(`FIRST DISAGREEMENT at entry ${d.firstDifference.index}:`);
  for (const f of d.firstDifference.fields) {
    console.log(`  ${f.field}:`);
    console.log(`    replica:     ${f.left.length > 200 ? f.left.slice(0, 200) + '…' : f.left}`);
    console.log(`    coordinator: ${f.right.length > 200 ? f.right.slice(0, 200) + '…' : f.right}`);
  }
  return 1;
}
