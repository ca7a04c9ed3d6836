// The coordinator's side of endorsement: checks what a site sends before it is stored, and says
// whether an entry has reached its run's quorum (what `serveEndorsedOnly` runs wait for).

import { endorsementStatus, requiredEndorsements, type EndorsementStatus } from '../../shared/endorsement.js';
import { FedrxError } from '../../shared/errors.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import { RUN_DEFAULTS } from '../run-config-schema.js';
import { endorsementBody, verify } from '../../shared/signing.js';
import type { Endorsement } from '../../shared/wire.js';
import type { EndorsementRow } from '../store/endorsement-store.js';
import type { Store } from '../store/store.js';

export type EntryEndorsements = EndorsementStatus & {
  runId: string;
  round: number;
  entryHash: string;
  endorsements: Pick<EndorsementRow, 'siteId' | 'signature' | 'receivedAt'>[];
};

export class Endorsements {
  private readonly endorsedOnly = new Map<string, boolean>();
  private readonly quorums = new Map<string, number>();
  private lastEntry: LedgerEntry | null = null;

  constructor(private readonly store: Store) {}

  /**
   * Stores a site's endorsement once it is shown to be a participant's valid signature over the
   * entry the ledger holds; throws a coded error otherwise and stores nothing. Returns false for a
   * repeat of an endorsement already stored.
   */
  accept(siteId: string, msg: Endorsement, publicKey: string): boolean {
    const entry = this.entry(msg.index);
    if (entry === null) throw new FedrxError('E_NOT_FOUND', `no ledger entry ${msg.index}`);
    if (entry.entryHash !== msg.entryHash) {
      throw new FedrxError('E_ENDORSEMENT_MISMATCH', `entry ${msg.index} has hash ${entry.entryHash}, the endorsement names ${msg.entryHash}`);
    }
    if (!entry.participants.some((p) => p.siteId === siteId)) {
      throw new FedrxError('E_NOT_PARTICIPANT', `site ${siteId} is not a participant of entry ${msg.index}`);
    }
    if (!verify('endorsement', endorsementBody(siteId, msg.index, msg.entryHash), msg.signature, publicKey)) {
      throw new FedrxError('E_BAD_SIGNATURE', `endorsement of entry ${msg.index} does not verify under site ${siteId}'s key`);
    }
    return this.store.endorsements.add({ entryIndex: msg.index, siteId, entryHash: msg.entryHash, signature: msg.signature });
  }

  /**
   * Endorsements stored for the entry against the number its run needs. Counted, not verified
   * again: each was verified when accepted (a thousand participants' endorsements would otherwise
   * be verified a thousand times over).
   */
  tally(entry: LedgerEntry): { count: number; required: number } {
    return { count: this.store.endorsements.count(entry.index), required: requiredEndorsements(this.quorumOf(entry.runId), entry.participants.length) };
  }

  /** The entry at `index`, the last one read kept: every participant endorses the same new entry. */
  entry(index: number): LedgerEntry | null {
    if (this.lastEntry?.index !== index) this.lastEntry = this.store.ledger.get(index);
    return this.lastEntry;
  }

  status(entry: LedgerEntry): EntryEndorsements {
    return this.statuses([entry])[0]!;
  }

  statuses(entries: readonly LedgerEntry[], keysOf = this.store.sites.keyring()): EntryEndorsements[] {
    if (entries.length === 0) return [];
    const rows = this.store.endorsements.byEntry(entries[0]!.index, entries[entries.length - 1]!.index);
    return entries.map((entry) => {
      const claims = rows.get(entry.index) ?? [];
      return {
        ...endorsementStatus(entry, claims, this.quorumOf(entry.runId), keysOf),
        runId: entry.runId,
        round: entry.round,
        entryHash: entry.entryHash,
        endorsements: claims.map((c) => ({ siteId: c.siteId, signature: c.signature, receivedAt: c.receivedAt })),
      };
    });
  }

  /** A run's quorum: its config never changes, and reading it (a 50,000-feature study) per endorsement would cost. */
  private quorumOf(runId: string): number {
    let q = this.quorums.get(runId);
    if (q === undefined) {
      q = this.store.getRun(runId)?.config.endorsementQuorum ?? RUN_DEFAULTS.endorsementQuorum;
      this.quorums.set(runId, q);
    }
    return q;
  }

  /** May clinicians be served the model of this entry? */
  servable(entry: LedgerEntry): boolean {
    let endorsedOnly = this.endorsedOnly.get(entry.runId);
    if (endorsedOnly === undefined) {
      // A run's config never changes; reading it (a 50,000-feature study) for every prediction would.
      const run = this.store.getRun(entry.runId);
      if (run === null) return true;
      endorsedOnly = run.config.serveEndorsedOnly === true;
      this.endorsedOnly.set(entry.runId, endorsedOnly);
    }
    return !endorsedOnly || this.status(entry).endorsed;
  }
}
