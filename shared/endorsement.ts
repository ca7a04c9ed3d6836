// When is a ledger entry endorsed? Pure rules shared by the coordinator's API, `fedrx ledger
// verify` and the tests: only participants may endorse, each signature must verify under one of
// the site's keys over this very entry hash, and ceil(quorum × participants) valid ones suffice.

import type { LedgerEntry } from './ledger.js';
import { endorsementBody, verify } from './signing.js';

export interface EndorsementClaim {
  siteId: string;
  /** The hash the endorsement says it signed: must equal the entry's. */
  entryHash: string;
  signature: string;
}

export interface EndorsementStatus {
  index: number;
  participants: number;
  required: number;
  /** Sites whose endorsement verifies. */
  endorsedBy: string[];
  /** Endorsements that do not verify: evidence that the entry or the endorsement was altered. */
  invalid: { siteId: string; reason: string }[];
  endorsed: boolean;
}

/** Endorsements needed out of `participants`; an entry nobody took part in cannot be endorsed. */
export function requiredEndorsements(quorum: number, participants: number): number {
  if (participants === 0) return 0;
  // The epsilon keeps 0.5 × 4 at 2, not 3 through rounding noise.
  return Math.min(participants, Math.max(1, Math.ceil(quorum * participants - 1e-9)));
}

export function endorsementStatus(
  entry: LedgerEntry,
  claims: readonly EndorsementClaim[],
  quorum: number,
  keysOf: (siteId: string) => readonly string[],
): EndorsementStatus {
  const participants = new Set(entry.participants.map((p) => p.siteId));
  const endorsedBy: string[] = [];
  const invalid: { siteId: string; reason: string }[] = [];
  for (const c of claims) {
    if (!participants.has(c.siteId)) invalid.push({ siteId: c.siteId, reason: 'not a participant of this entry' });
    else if (c.entryHash !== entry.entryHash) invalid.push({ siteId: c.siteId, reason: 'endorses another entry hash' });
    else if (!keysOf(c.siteId).some((k) => verify('endorsement', endorsementBody(c.siteId, entry.index, entry.entryHash), c.signature, k))) {
      invalid.push({ siteId: c.siteId, reason: 'signature does not verify under the site\'s keys' });
    } else if (!endorsedBy.includes(c.siteId)) endorsedBy.push(c.siteId);
  }
  const required = requiredEndorsements(quorum, participants.size);
  return {
    index: entry.index,
    participants: participants.size,
    required,
    endorsedBy: endorsedBy.sort(),
    invalid,
    endorsed: required > 0 && endorsedBy.length >= required,
  };
}
