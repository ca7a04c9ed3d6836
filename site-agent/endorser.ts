// The site's vote on each ledger entry it took part in. It endorses an entry only after checking,
// on its own, that the entry lists the contribution this site signed (its update hash and example
// count, for that run, round and base model), that the chain extends its replica (the replica
// checked that before handing the entry over), and that the entry's model hash is the hash of model
// bytes this site actually received from the coordinator. Anything else is disputed, not endorsed.

import { participantSigned, type LedgerEntry } from '../shared/ledger.js';
import { endorsementBody, sign, type KeyPair } from '../shared/signing.js';
import { PROTOCOL_VERSION, type Dispute, type Endorsement } from '../shared/wire.js';
import type { Replica } from './replica.js';

export interface EndorserOptions {
  siteId: string;
  keys: KeyPair;
  replica: Replica;
  send: (msg: Endorsement | Dispute) => void;
  /** Called when the coordinator's ledger lies about this site: the agent stops trusting it. */
  onDispute: (index: number, reason: string) => void;
  log: (line: string) => void;
}

/** Models received and hash-checked recently; the entries of the last rounds refer to these. */
const MODELS_REMEMBERED = 256;

export class Endorser {
  private readonly seenModels: string[] = [];
  /** Entries this site took part in whose model it has not received yet, by model hash. */
  private readonly waiting = new Map<string, LedgerEntry[]>();
  /** What this process sent, by run and round: compared with what the entry says. */
  private readonly sent = new Map<string, { updateHash: string; numExamples: number }>();

  constructor(private readonly opts: EndorserOptions) {}

  /** Remembers a contribution (update or statistics) this site signed and sent. */
  noteContribution(runId: string, round: number, updateHash: string, numExamples: number): void {
    this.sent.set(`${runId}/${round}`, { updateHash, numExamples });
    if (this.sent.size > MODELS_REMEMBERED) this.sent.delete(this.sent.keys().next().value!);
  }

  /** A model whose bytes this site received and hashed itself. */
  noteModel(modelHash: string): void {
    if (!this.seenModels.includes(modelHash)) {
      this.seenModels.push(modelHash);
      if (this.seenModels.length > MODELS_REMEMBERED) this.seenModels.shift();
    }
    const ready = this.waiting.get(modelHash);
    if (ready === undefined) return;
    this.waiting.delete(modelHash);
    for (const entry of ready) void this.endorse(entry);
  }

  /** Reviews entries just appended to the replica (so already known to extend the chain). */
  review(entries: readonly LedgerEntry[]): void {
    for (const entry of entries) {
      const mine = entry.participants.find((p) => p.siteId === this.opts.siteId);
      if (mine === undefined) continue; // only participants endorse
      const problem = this.contributionProblem(entry, mine);
      if (problem !== null) {
        this.dispute(entry.index, problem);
        continue;
      }
      if (this.seenModels.includes(entry.modelHash)) void this.endorse(entry);
      else this.waiting.set(entry.modelHash, [...(this.waiting.get(entry.modelHash) ?? []), entry]);
    }
  }

  private contributionProblem(entry: LedgerEntry, mine: LedgerEntry['participants'][number]): string | null {
    if (!participantSigned(entry, mine, this.opts.keys.publicKey)) {
      return `entry ${entry.index} lists a contribution of ${this.opts.siteId} that this site did not sign`;
    }
    const sent = this.sent.get(`${entry.runId}/${entry.round}`);
    if (sent !== undefined && (sent.updateHash !== mine.updateHash || sent.numExamples !== mine.numExamples)) {
      return `entry ${entry.index} records update ${mine.updateHash.slice(0, 12)} of ${mine.numExamples} rows; this site sent ${sent.updateHash.slice(0, 12)} of ${sent.numExamples}`;
    }
    return null;
  }

  private async endorse(entry: LedgerEntry): Promise<void> {
    const signature = sign('endorsement', endorsementBody(this.opts.siteId, entry.index, entry.entryHash), this.opts.keys.secretKey);
    try {
      await this.opts.replica.recordEndorsement({ index: entry.index, entryHash: entry.entryHash, signature });
    } catch (e) {
      this.opts.log(`could not keep endorsement of entry ${entry.index}: ${(e as Error).message}`);
      return;
    }
    this.opts.send({ type: 'endorsement', v: PROTOCOL_VERSION, index: entry.index, entryHash: entry.entryHash, signature });
    this.opts.log(`endorsed ledger entry #${entry.index} (run ${entry.runId} round ${entry.round}, model ${entry.modelHash.slice(0, 12)})`);
  }

  private dispute(index: number, reason: string): void {
    this.opts.send({ type: 'dispute', v: PROTOCOL_VERSION, index, code: 'E_ENTRY_DISPUTED', reason });
    this.opts.onDispute(index, reason);
  }
}
