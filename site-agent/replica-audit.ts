// What a hospital's auditor checks on the site's own copy of the ledger, without trusting the
// coordinator: hashes, links and coordinator signatures (under the pinned key), this site's own
// signatures on its contributions, and the endorsements it sent.

import { participantSigned, verifyChain, type ChainCheck, type LedgerEntry } from '../shared/ledger.js';
import { headProblem } from '../shared/ledger-head.js';
import { endorsementBody, verify } from '../shared/signing.js';
import { readReplicaDir, type ReplicaMeta } from './replica.js';

export interface ReplicaEntryAudit {
  index: number;
  runId: string;
  round: number;
  modelHash: string;
  participants: number;
  /** Did this site take part in the entry? */
  participated: boolean;
  /** Did this site endorse it (a valid endorsement kept in endorsements.jsonl)? */
  endorsed: boolean;
  problems: string[];
}

export interface ReplicaAudit {
  meta: ReplicaMeta;
  chain: ChainCheck;
  entries: ReplicaEntryAudit[];
  firstBad: { index: number; reason: string } | null;
  ok: boolean;
}

export async function auditReplica(dir: string): Promise<ReplicaAudit> {
  const { entries, meta, endorsements } = await readReplicaDir(dir);
  const chain = verifyChain(entries);
  let firstBad: ReplicaAudit['firstBad'] = chain.ok ? null : { index: chain.badIndex, reason: chain.reason };
  const own = new Map(endorsements.map((e) => [e.index, e]));
  const site = meta.site;
  const audited: ReplicaEntryAudit[] = entries.slice(0, chain.length).map((entry: LedgerEntry) => {
    const problems: string[] = [];
    if (meta.coordinatorKey !== null && entry.coordinatorKey !== meta.coordinatorKey) problems.push('signed by another coordinator key than the pinned one');
    const mine = site === undefined ? undefined : entry.participants.find((p) => p.siteId === site.siteId);
    if (site !== undefined && mine !== undefined && !participantSigned(entry, mine, site.publicKey)) {
      problems.push(`lists a contribution of ${site.siteId} that this site's key did not sign`);
    }
    const e = own.get(entry.index);
    let endorsed = false;
    if (e !== undefined) {
      if (e.entryHash !== entry.entryHash) problems.push('this site endorsed another entry hash at this index');
      else if (site !== undefined && !verify('endorsement', endorsementBody(site.siteId, entry.index, entry.entryHash), e.signature, site.publicKey)) {
        problems.push("this site's endorsement does not verify under its key");
      } else endorsed = true;
    }
    if (problems.length > 0 && firstBad === null) firstBad = { index: entry.index, reason: problems.join('; ') };
    return {
      index: entry.index,
      runId: entry.runId,
      round: entry.round,
      modelHash: entry.modelHash,
      participants: entry.participants.length,
      participated: mine !== undefined,
      endorsed,
      problems,
    };
  });
  for (const e of endorsements) {
    if (e.index >= entries.length && firstBad === null) firstBad = { index: e.index, reason: 'endorsement of an entry the replica does not hold' };
  }
  // The head the coordinator signed at a welcome: the replica may be behind it, never at odds with it.
  const signed = meta.coordinatorHead;
  if (signed !== undefined && signed.length <= chain.length && firstBad === null) {
    firstBad = headProblem(signed, { length: chain.length, hashAt: (i) => entries[i]?.entryHash ?? null }, 'the coordinator head kept in replica.json');
  }
  return { meta, chain, entries: audited, firstBad, ok: firstBad === null };
}
