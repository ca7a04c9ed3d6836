// This site's side of secure rounds (shared/secagg/client.ts does the cryptography): it answers
// the coordinator's setup, roster, inbox and unmask messages, and hands the round's state to the
// training task, which masks its update with it. Secrets live in memory for the round only: a
// restarted agent has none, so a round redone after a crash starts again with fresh keys.

import { FedrxError } from '../shared/errors.js';
import { receiveInbox, reveal, shareKeys, startRound, type ClientRound } from '../shared/secagg/client.js';
import type { SecaggInbox, SecaggRoster, SecaggSetup, SecaggUnmask } from '../shared/secagg/wire.js';
import { messageText, PROTOCOL_VERSION } from '../shared/wire.js';
import type { TaskRef } from './task-reply.js';

/** Rounds kept at once: a new round of a run drops that run's older ones. */
const MAX_ROUNDS = 8;

export interface SecureRoundDeps {
  siteId: string;
  identitySecret: Uint8Array;
  send: (data: string) => void;
  /** Replies with a task-error for this run and round. */
  refuse: (ref: TaskRef, code: FedrxError['code'], message: string) => void;
  log: (line: string) => void;
}

const key = (r: TaskRef): string => `${r.runId}\0${r.round}`;

export class SecureRounds {
  private readonly rounds = new Map<string, ClientRound>();

  constructor(private readonly deps: SecureRoundDeps) {}

  /** The round's state for the masked update, or E_SECAGG_PARAMS when no setup reached this site. */
  session(ref: TaskRef): ClientRound {
    const s = this.rounds.get(key(ref));
    if (s === undefined) throw new FedrxError('E_SECAGG_PARAMS', `no secure-aggregation keys were set up on this site for run ${ref.runId} round ${ref.round}`);
    return s;
  }

  async onMessage(msg: SecaggSetup | SecaggRoster | SecaggInbox | SecaggUnmask): Promise<void> {
    const ref = { runId: msg.runId, round: msg.round };
    const v = PROTOCOL_VERSION;
    try {
      switch (msg.type) {
        case 'secagg-setup': {
          const { state, advert } = startRound(msg, this.deps.siteId, this.deps.identitySecret);
          this.keep(state);
          this.deps.send(messageText({ type: 'secagg-keys', v, runId: msg.runId, round: msg.round, ...advert }));
          this.deps.log(`round ${msg.round}: secure aggregation with ${state.neighbours.length} neighbours, threshold ${state.params.threshold}: keys sent`);
          return;
        }
        case 'secagg-roster': {
          const shares = await shareKeys(this.session(ref), msg);
          this.deps.send(messageText({ type: 'secagg-shares', v, ...shares }));
          this.deps.log(`round ${msg.round}: shares sealed for ${shares.boxes.length} neighbours`);
          return;
        }
        case 'secagg-inbox': {
          const refusedBoxes = receiveInbox(this.session(ref), msg);
          this.deps.send(messageText({ type: 'secagg-opened', v, runId: msg.runId, round: msg.round, siteId: this.deps.siteId, refusedBoxes }));
          const bad = refusedBoxes.length === 0 ? '' : `; refused the boxes of ${refusedBoxes.map((r) => r.from).join(', ')}`;
          this.deps.log(`round ${msg.round}: opened ${msg.boxes.length - refusedBoxes.length} share boxes${bad}`);
          return;
        }
        case 'secagg-unmask': {
          const shares = reveal(this.session(ref), msg);
          this.deps.send(messageText({ type: 'secagg-reveal', v, runId: msg.runId, round: msg.round, siteId: this.deps.siteId, ...shares }));
          this.deps.log(`round ${msg.round}: revealed ${shares.selfShares.length} self-mask and ${shares.keyShares.length} key shares (${msg.dropped.length} sites dropped)`);
          return;
        }
      }
    } catch (e) {
      if (!(e instanceof FedrxError)) throw e;
      this.deps.log(`round ${msg.round}: ${msg.type} refused: ${e.code} ${e.message}`);
      this.deps.refuse(ref, e.code, e.message);
    }
  }

  private keep(state: ClientRound): void {
    for (const [k, s] of this.rounds) if (s.runId === state.runId && s.round < state.round) this.rounds.delete(k);
    this.rounds.set(key(state), state);
    while (this.rounds.size > MAX_ROUNDS) this.rounds.delete(this.rounds.keys().next().value!);
  }
}
