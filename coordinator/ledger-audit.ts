// The whole check an auditor runs on the coordinator's database: the chain (hashes, links,
// coordinator signatures), every participant's signature over its contribution, the recorded run
// configuration, and every endorsement. A coordinator that rewrites an entry and re-signs it
// passes the chain check; the sites' endorsements of the old hashes give it away.

import { participantSigned, type ChainCheck } from '../shared/ledger.js';
import { Endorsements, type EntryEndorsements } from './endorsements.js';
import type { Store } from './store.js';

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
  ok: boolean;
}

const PAGE = 500;

export function auditLedger(store: Store): LedgerAudit {
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
  const unendorsed = entries.filter((e) => e.problems.length === 0 && !e.endorsed).map((e) => e.index);
  return { chain, entries, firstBad, unendorsed, coordinatorKeys: [...coordinatorKeys], ok: firstBad === null };
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
