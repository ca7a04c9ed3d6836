// The site's side of the ledger: on every welcome it compares the coordinator's ledger with its
// replica (and with the head the coordinator signed to it before), appends the entries it is sent,
// has the endorser review them, and re-sends endorsements the coordinator lacks. A coordinator
// whose chain contradicts the replica is refused (refusal.ts).

import { isFedrxError } from '../shared/errors.js';
import type { EndorsementRequest, ErrorMessage, LedgerEntries, Welcome } from '../shared/wire.js';
import type { Endorser } from './endorser.js';
import type { Refusal } from './refusal.js';
import type { Replica } from './replica.js';
import { asFedrxError } from './task-reply.js';

export interface LedgerSyncDeps {
  replica: Replica;
  endorser: Endorser;
  refusal: Refusal;
  log: (line: string) => void;
}

export class LedgerSync {
  constructor(private readonly deps: LedgerSyncDeps) {}

  onWelcome(msg: Welcome): void {
    const { replica, refusal, log } = this.deps;
    const mine = replica.head();
    log(`welcomed by coordinator: ledger ${msg.ledger.length} entries, replica ${mine.length}`);
    const signed = replica.coordinatorHead();
    if (msg.ledger.length < mine.length) {
      refusal.dispute(msg.ledger.length, 'E_REPLICA_DIVERGED', `coordinator ledger has ${msg.ledger.length} entries, this replica holds ${mine.length}`);
    } else if (signed !== null && msg.ledger.length < signed.length) {
      refusal.dispute(msg.ledger.length, 'E_REPLICA_DIVERGED', `coordinator ledger has ${msg.ledger.length} entries, but it signed a head of ${signed.length} entries on ${signed.recordedAt}`);
    } else if (msg.ledger.length === mine.length && msg.ledger.headHash !== mine.headHash) {
      refusal.dispute(mine.length - 1, 'E_REPLICA_DIVERGED', `coordinator ledger head differs from the replica's at length ${mine.length}: an earlier entry was rewritten`);
    } else if (msg.head !== undefined) {
      // Kept in replica.json: a coordinator that later shows fewer entries is refused, and `ledger diff` shows it.
      replica.recordCoordinatorHead(msg.head).catch((e: unknown) => this.appendFailed(e, 0, 'coordinator head not kept'));
    }
  }

  async onEntries(msg: LedgerEntries): Promise<void> {
    const { replica, endorser, log } = this.deps;
    try {
      const added = await replica.append(msg.entries);
      if (added.length > 0) log(`replica: +${added.length} entries, now ${replica.head().length}`);
      endorser.review(added);
    } catch (e) {
      this.appendFailed(e, replica.head().length, 'ledger entries rejected');
    }
  }

  onEndorsementRequest(msg: EndorsementRequest): void {
    // Behind the appends already queued (the ledger sync comes just before), so the entries are held.
    void this.deps.replica.append([]).then(() => this.deps.endorser.resend(msg.indexes));
  }

  onCoordinatorError(msg: ErrorMessage): void {
    // The coordinator itself found our replica's head is not on its chain.
    if (msg.code === 'E_REPLICA_DIVERGED') this.deps.refusal.dispute(Math.max(0, this.deps.replica.head().length - 1), 'E_REPLICA_DIVERGED', msg.message);
    this.deps.log(`coordinator error ${msg.code}${msg.runId !== undefined ? ` (run ${msg.runId}, round ${msg.round ?? '?'})` : ''}: ${msg.message}`);
  }

  /** A divergence refuses the coordinator; anything else is logged. */
  private appendFailed(e: unknown, index: number, what: string): void {
    if (isFedrxError(e, 'E_REPLICA_DIVERGED')) this.deps.refusal.dispute(Number(e.details?.index ?? index), 'E_REPLICA_DIVERGED', e.message);
    else this.deps.log(`${what}: ${asFedrxError(e, 'E_INTERNAL').message}`);
  }
}
