// The site's vote on each ledger entry it took part in. It endorses an entry only after checking,
// on its own, that the entry lists the contribution this site signed (its update hash and example
// count, for that run, round and base model), that the chain extends its replica (the replica
// checked that before handing the entry over), and that the entry's model hash is the hash of model
// bytes this site actually received from the coordinator; for a DP round, that the ε it records are
// what the site's own replica gives (privacy-from-chain.ts). Anything else is disputed, not endorsed.
// The models it received, the entries waiting for theirs and the contributions it signed are kept
// on disk (endorser-state.ts), so a restarted agent still endorses, and still checks what an entry
// records of it; what it endorsed is kept in the replica, so it can answer a coordinator that lost
// endorsements in a crash (resend).

import { participantSigned, type LedgerEntry } from '../shared/ledger.js';
import { endorsementBody, sign, type KeyPair } from '../shared/signing.js';
import { PROTOCOL_VERSION, type Dispute, type Endorsement } from '../shared/wire.js';
import { readEndorserState, writeEndorserState, type Contribution } from './endorser-state.js';
import type { Replica } from './replica.js';
import { privacyProblem, tallyChain } from '../shared/privacy/privacy-from-chain.js';

export interface EndorserOptions {
  siteId: string;
  keys: KeyPair;
  replica: Replica;
  send: (msg: Endorsement | Dispute) => void;
  /** Called when the coordinator's ledger lies about this site: the agent stops trusting it. */
  onDispute: (index: number, reason: string) => void;
  log: (line: string) => void;
  /**
   * A last word before endorsing an entry this site's own checks passed: a region vouches for a
   * national entry only once its own sites endorsed the regional round behind it (regional-compute.ts).
   * 'endorse', a dispute's reason, or 'hold' (not endorsed, not disputed).
   */
  vouch?: (entry: LedgerEntry) => Promise<Vouch>;
}

export type Vouch = { verdict: 'endorse' } | { verdict: 'hold'; why: string } | { verdict: 'dispute'; why: string };

/** Models received and hash-checked recently; the entries of the last rounds refer to these. */
const MODELS_REMEMBERED = 256;

export class Endorser {
  private readonly seenModels: string[] = [];
  /** Entries this site took part in whose model it has not received yet, by model hash. */
  private readonly waiting = new Map<string, LedgerEntry[]>();
  /** What this site signed and sent, by run and round: compared with what the entry says. */
  private readonly sent = new Map<string, Contribution>();
  /** Entries being signed and recorded right now: not to be endorsed twice. */
  private readonly signing = new Set<number>();
  /** State writes, one after another, each of the state as it then is. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: EndorserOptions) {}

  /** An endorser with what it had noted before the agent last stopped; endorses what became ready meanwhile. */
  static async open(opts: EndorserOptions): Promise<Endorser> {
    const e = new Endorser(opts);
    const state = await readEndorserState(opts.replica.dir);
    e.seenModels.push(...state.seenModels.slice(-MODELS_REMEMBERED));
    for (const c of (state.contributions ?? []).slice(-MODELS_REMEMBERED)) e.sent.set(`${c.runId}/${c.round}`, c);
    const held = opts.replica.entries();
    const restored = state.waiting.map((i) => held[i]).filter((x): x is LedgerEntry => x !== undefined);
    if (restored.length > 0) opts.log(`${restored.length} ledger entr${restored.length === 1 ? 'y waits' : 'ies wait'} for their model before this site endorses them`);
    for (const entry of restored) e.wait(entry);
    return e;
  }

  /** The state to keep on disk: written in the background, in order; a failure is logged, not fatal. */
  private save(): void {
    const state = { seenModels: [...this.seenModels], waiting: [...this.waiting.values()].flat().map((e) => e.index), contributions: [...this.sent.values()] };
    this.saving = this.saving
      .then(() => writeEndorserState(this.opts.replica.dir, state))
      .catch((err: unknown) => this.opts.log(`could not keep the endorser's state: ${(err as Error).message}`));
  }

  /** Resolves once every state change so far is on disk. */
  flushed(): Promise<void> {
    return this.saving;
  }

  private wait(entry: LedgerEntry): void {
    if (this.seenModels.includes(entry.modelHash)) {
      void this.endorse(entry);
      return;
    }
    const list = this.waiting.get(entry.modelHash) ?? [];
    if (!list.some((e) => e.index === entry.index)) this.waiting.set(entry.modelHash, [...list, entry]);
  }

  /** Remembers a contribution (update or statistics) this site signed and sent. */
  noteContribution(c: Contribution): void {
    const key = `${c.runId}/${c.round}`;
    const known = this.sent.get(key);
    if (known !== undefined && known.updateHash === c.updateHash && known.numExamples === c.numExamples) return; // a re-sent answer
    this.sent.delete(key); // re-inserted as the newest
    this.sent.set(key, { runId: c.runId, round: c.round, updateHash: c.updateHash, numExamples: c.numExamples });
    if (this.sent.size > MODELS_REMEMBERED) this.sent.delete(this.sent.keys().next().value!);
    this.save();
  }

  /** A model whose bytes this site received and hashed itself. */
  noteModel(modelHash: string): void {
    if (this.seenModels.includes(modelHash)) return;
    this.seenModels.push(modelHash);
    if (this.seenModels.length > MODELS_REMEMBERED) this.seenModels.shift();
    const ready = this.waiting.get(modelHash);
    this.waiting.delete(modelHash);
    this.save();
    for (const entry of ready ?? []) void this.endorse(entry);
  }

  /** Reviews entries just appended to the replica (so already known to extend the chain). */
  review(entries: readonly LedgerEntry[]): void {
    for (const entry of entries) {
      const mine = entry.participants.find((p) => p.siteId === this.opts.siteId);
      if (mine === undefined) {
        // Only participants endorse; but an entry that says this site dropped from a secure sum it did upload to is wrong.
        const sent = this.sent.get(`${entry.runId}/${entry.round}`);
        if (entry.secure?.recovered.includes(this.opts.siteId) === true && sent !== undefined) {
          this.dispute(entry.index, `entry ${entry.index} counts ${this.opts.siteId} as dropped from the secure sum, but this site sent masked update ${sent.updateHash.slice(0, 12)}`);
        }
        continue;
      }
      const problem = this.contributionProblem(entry, mine);
      if (problem !== null) {
        this.dispute(entry.index, problem);
        continue;
      }
      this.wait(entry);
    }
    if (this.waiting.size > 0) this.save();
  }

  /**
   * The coordinator lacks this site's endorsement of these entries: re-sends the one kept for an
   * entry the replica holds with the same hash, and reviews afresh one never endorsed. Indexes the
   * replica does not hold (yet) are left to the ledger sync that delivers them.
   */
  resend(indexes: readonly number[]): void {
    const held = this.opts.replica.entries();
    const kept = new Map(this.opts.replica.ownEndorsements().map((e) => [e.index, e]));
    const review: LedgerEntry[] = [];
    let resent = 0;
    for (const index of indexes) {
      const entry = held[index];
      if (entry === undefined || this.signing.has(index)) continue;
      const mine = kept.get(index);
      if (mine !== undefined && mine.entryHash === entry.entryHash) {
        this.opts.send({ type: 'endorsement', v: PROTOCOL_VERSION, index, entryHash: mine.entryHash, signature: mine.signature });
        resent++;
      } else if (mine === undefined && ![...this.waiting.values()].some((list) => list.some((e) => e.index === index))) review.push(entry);
    }
    if (resent > 0) this.opts.log(`re-sent ${resent} endorsement(s) the coordinator lacked`);
    this.review(review);
  }

  private contributionProblem(entry: LedgerEntry, mine: LedgerEntry['participants'][number]): string | null {
    if (!participantSigned(entry, mine, this.opts.keys.publicKey)) {
      return `entry ${entry.index} lists a contribution of ${this.opts.siteId} that this site did not sign`;
    }
    const secure = secureListingProblem(entry, this.opts.siteId);
    if (secure !== null) return secure;
    if (entry.privacy !== undefined) {
      // The ε it records must be what this site's own replica gives (the entry is its last one).
      const problem = privacyProblem(tallyChain(this.opts.replica.entries().slice(0, entry.index)), entry);
      if (problem !== null) return problem;
    }
    const sent = this.sent.get(`${entry.runId}/${entry.round}`);
    if (sent !== undefined && (sent.updateHash !== mine.updateHash || sent.numExamples !== mine.numExamples)) {
      return `entry ${entry.index} records update ${mine.updateHash.slice(0, 12)} of ${mine.numExamples} rows; this site sent ${sent.updateHash.slice(0, 12)} of ${sent.numExamples}`;
    }
    return null;
  }

  private async endorse(entry: LedgerEntry): Promise<void> {
    if (this.signing.has(entry.index) || this.opts.replica.ownEndorsements().some((e) => e.index === entry.index)) return;
    this.signing.add(entry.index);
    const vouch = await this.vouched(entry);
    if (vouch.verdict !== 'endorse') {
      this.signing.delete(entry.index);
      if (vouch.verdict === 'dispute') this.dispute(entry.index, vouch.why);
      else this.opts.log(`entry ${entry.index} not endorsed: ${vouch.why}`);
      return;
    }
    const signature = sign('endorsement', endorsementBody(this.opts.siteId, entry.index, entry.entryHash), this.opts.keys.secretKey);
    try {
      await this.opts.replica.recordEndorsement({ index: entry.index, entryHash: entry.entryHash, signature });
    } catch (e) {
      this.opts.log(`could not keep endorsement of entry ${entry.index}: ${(e as Error).message}`);
      return;
    } finally {
      this.signing.delete(entry.index);
    }
    this.opts.send({ type: 'endorsement', v: PROTOCOL_VERSION, index: entry.index, entryHash: entry.entryHash, signature });
    this.opts.log(`endorsed ledger entry #${entry.index} (run ${entry.runId} round ${entry.round}, model ${entry.modelHash.slice(0, 12)})`);
  }

  private async vouched(entry: LedgerEntry): Promise<Vouch> {
    if (this.opts.vouch === undefined) return { verdict: 'endorse' };
    try {
      return await this.opts.vouch(entry);
    } catch (e) {
      return { verdict: 'hold', why: (e as Error).message };
    }
  }

  private dispute(index: number, reason: string): void {
    this.opts.send({ type: 'dispute', v: PROTOCOL_VERSION, index, code: 'E_ENTRY_DISPUTED', reason });
    this.opts.onDispute(index, reason);
  }
}

/** A secure round's entry must list as participants exactly the sites in its sum, this one among them, with the securely summed count. */
function secureListingProblem(entry: LedgerEntry, siteId: string): string | null {
  const secure = entry.secure;
  if (secure === undefined) return null;
  const listed = entry.participants.map((p) => p.siteId).sort();
  if (!secure.included.includes(siteId) || listed.join('\0') !== [...secure.included].sort().join('\0')) {
    return `entry ${entry.index} lists participants that are not the sites of its secure sum`;
  }
  const counted = entry.participants.reduce((n, p) => n + p.numExamples, 0);
  if (counted !== secure.examples) return `entry ${entry.index} lists ${counted} examples, its secure sum counted ${secure.examples}`;
  return null;
}
