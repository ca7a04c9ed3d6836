// The whole check an auditor runs on the coordinator's database: the chain (hashes, links,
// coordinator signatures), every participant's signature over its contribution, the recorded run
// configuration, and every endorsement. A coordinator that rewrites an entry and re-signs it
// passes the chain check; the sites' endorsements of the old hashes give it away. A deleted tail
// passes it too: the tables that still point at the missing entries, and the signed head file
// beside the database, give that away.

import { participantSigned, type ChainCheck } from '../../shared/ledger.js';
import { headProblem, type SignedHead } from '../../shared/ledger-head.js';
import { Endorsements, type EntryEndorsements } from './endorsements.js';
import { referenceProblems, type ReferenceProblem } from '../store/ledger-references.js';
import type { Store } from '../store/store.js';

export interface EntryAudit extends EntryEndorsements {
  modelHash: string;
  /** Problems that make this entry untrustworthy (bad participant signature, bad endorsement…). */
  problems: string[];
}

export interface LedgerAudit {
  /** Hashes, links and coordinator signatures. */
  chain: ChainCheck;
  entries: EntryAudit[];
  /** The first entry with a problem, chain or otherwise. */
  firstBad: { index: number; reason: string } | null;
  /** Intact entries that have not (yet) reached their quorum. */
  unendorsed: number[];
  coordinatorKeys: string[];
  /** Rows of other tables, and the recorded head, that point past the ledger or contradict it. */
  missing: ReferenceProblem[];
  ok: boolean;
}

/** The head recorded outside the table (null: no record found at `where`). */
export interface RecordedHead {
  where: string;
  head: SignedHead | null;
}

const PAGE = 500;

/** `recorded`: the coordinator's head file, when the caller knows where it is. */
export function auditLedger(store: Store, recorded?: RecordedHead): LedgerAudit {
  const chain = store.ledger.verify();
  const endorsements = new Endorsements(store);
  const entries: EntryAudit[] = [];
  const coordinatorKeys = new Set<string>();
  let firstBad: LedgerAudit['firstBad'] = chain.ok ? null : { index: chain.badIndex, reason: chain.reason };
  const configHashes = new Map<string, string | null>();
  const keysOf = store.sites.keyring();
  for (let from = 0; from < chain.length; from += PAGE) {
    const page = store.ledger.list(from, Math.min(PAGE, chain.length - from));
    const statuses = endorsements.statuses(page, keysOf);
    page.forEach((entry, i) => {
      coordinatorKeys.add(entry.coordinatorKey);
      const problems: string[] = [];
      for (const p of entry.participants) {
        if (!keysOf(p.siteId).some((k) => participantSigned(entry, p, k))) {
          problems.push(`participant ${p.siteId}: its signature does not verify under its registered keys`);
        }
      }
      if (!configHashes.has(entry.runId)) configHashes.set(entry.runId, store.getRun(entry.runId)?.configHash ?? null);
      const configHash = configHashes.get(entry.runId);
      if (configHash === null) problems.push(`run ${entry.runId} is not in the runs table`);
      else if (configHash !== entry.configHash) problems.push(`configHash differs from the stored configuration of run ${entry.runId}`);
      const status = statuses[i]!;
      for (const bad of status.invalid) problems.push(`endorsement by ${bad.siteId}: ${bad.reason}`);
      if (problems.length > 0 && firstBad === null) firstBad = { index: entry.index, reason: problems.join('; ') };
      entries.push({ ...status, modelHash: entry.modelHash, problems });
    });
  }
  const missing = [...referenceProblems(store.db), ...recordedHeadProblems(store, recorded, coordinatorKeys)].sort((a, b) => a.index - b.index);
  if (firstBad === null && missing.length > 0) {
    const at = missing[0]!.index;
    firstBad = { index: at, reason: missing.filter((m) => m.index === at).map((m) => m.reason).join('; ') };
  }
  const unendorsed = entries.filter((e) => e.problems.length === 0 && !e.endorsed).map((e) => e.index);
  return { chain, entries, firstBad, unendorsed, coordinatorKeys: [...coordinatorKeys], missing, ok: firstBad === null };
}

function recordedHeadProblems(store: Store, recorded: RecordedHead | undefined, coordinatorKeys: ReadonlySet<string>): ReferenceProblem[] {
  if (recorded === undefined) return [];
  const { length } = store.ledger.head();
  if (recorded.head === null) {
    if (length === 0) return [];
    return [{ index: length, reason: `no signed head file at ${recorded.where}: a deleted tail cannot be ruled out here; compare with a site's replica (fedrx ledger diff)` }];
  }
  // Else anyone could sign a shorter head with a key of their own.
  if (length > 0 && !coordinatorKeys.has(recorded.head.coordinatorKey)) {
    return [{ index: Math.max(0, recorded.head.length - 1), reason: `head file ${recorded.where} is signed by a key that signs no ledger entry` }];
  }
  const problem = headProblem(recorded.head, { length, hashAt: (i) => store.ledger.get(i)?.entryHash ?? null }, `head file ${recorded.where}`);
  return problem === null ? [] : [problem];
}

export type AuditVerdict =
  | { ok: true; length: number; headHash: string; unendorsed: number[]; coordinatorKeys: string[] }
  | { ok: false; length: number; badIndex: number; reason: string; unendorsed: number[]; coordinatorKeys: string[] };

/** The audit's verdict without the per-entry detail, shaped like a chain check. */
export function auditVerdict(a: LedgerAudit): AuditVerdict {
  const common = { length: a.chain.length, unendorsed: a.unendorsed, coordinatorKeys: a.coordinatorKeys };
  if (a.firstBad !== null) return { ok: false, badIndex: a.firstBad.index, reason: a.firstBad.reason, ...common };
  return { ok: true, headHash: a.chain.ok ? a.chain.headHash : '', ...common };
}
