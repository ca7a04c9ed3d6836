// What the sites say about the ledger, as the gateway hands it over: endorsements (a participant's
// signature over an entry it checked), disputes (a site's refusal of an entry or of the chain), and,
// right after a site's welcome, the request for the endorsements this coordinator lacks from it.

import { FedrxError } from '../../shared/errors.js';
import { listUpTo } from '../../shared/list-text.js';
import type { Dispute, Endorsement, EndorsementRequest } from '../../shared/wire.js';
import { RateLimiter } from './rate-limit.js';
import type { Store } from '../store/store.js';
import { endorsementRequest } from './endorsement-sync.js';
import type { Endorsements } from './endorsements.js';

export class EndorsementDesk {
  /** Disputes per site, across reconnections: an honest agent sends one and leaves. */
  private readonly disputes: RateLimiter;

  constructor(
    private readonly store: Store,
    private readonly endorsements: Endorsements,
    private readonly log: (line: string) => void,
    private readonly disputesPerHour: number,
  ) {
    this.disputes = new RateLimiter({ limit: disputesPerHour, windowMs: 3_600_000 });
  }

  /** Sent after the welcome and the entries the site lacks, so it holds every entry it is asked to endorse. */
  afterWelcome(siteId: string): EndorsementRequest | null {
    return endorsementRequest(this.store, siteId);
  }

  /** Stores a participant's valid endorsement; throws a coded error and stores nothing otherwise. */
  endorsement(siteId: string, publicKey: string, msg: Endorsement): void {
    if (!this.endorsements.accept(siteId, msg, publicKey)) return;
    const entry = this.endorsements.entry(msg.index)!;
    const { count, required } = this.endorsements.tally(entry);
    if (count !== required) return;
    const status = this.endorsements.status(entry); // once per entry: names who endorsed
    if (status.endorsed) {
      this.log(`ledger entry #${msg.index} endorsed by ${status.endorsedBy.length} of ${status.participants} participants (${listUpTo(status.endorsedBy, 20)})`);
    }
  }

  /**
   * A dispute of one entry comes from a participant of it; a dispute of the whole chain (the
   * site's replica contradicts it, maybe past our last entry) from any admitted site. Either way
   * a site files at most `disputesPerHour`, however often it reconnects.
   */
  dispute(siteId: string, msg: Dispute): void {
    if (msg.code !== 'E_REPLICA_DIVERGED') {
      const entry = this.store.ledger.get(msg.index);
      if (entry === null) throw new FedrxError('E_NOT_FOUND', `no ledger entry ${msg.index} to dispute; not recorded`);
      if (!entry.participants.some((p) => p.siteId === siteId)) {
        throw new FedrxError('E_NOT_PARTICIPANT', `site ${siteId} is not a participant of entry ${msg.index} and may not dispute it; not recorded`);
      }
    }
    if (!this.disputes.take(siteId)) {
      throw new FedrxError('E_RATE_LIMITED', `site ${siteId} filed ${this.disputesPerHour} disputes this hour; not recorded`);
    }
    this.store.endorsements.addDispute({ siteId, entryIndex: msg.index, code: msg.code, reason: msg.reason });
    this.log(`!!! site ${siteId} disputes ledger entry #${msg.index}: ${msg.code} ${msg.reason}`);
  }
}
