// The site stops trusting a coordinator: it says why (a dispute, when the coordinator's chain
// contradicts the replica), closes the connection and does not reconnect. The replica is kept as
// it is, for the site's auditor (`fedrx ledger diff`). Once is enough.

import type { ErrorCode } from '../shared/errors.js';
import { messageText, PROTOCOL_VERSION } from '../shared/wire.js';

const MAX_REASON = 2000;

export interface CoordinatorLink {
  send(data: string): boolean;
  close(): Promise<void>;
}

export class Refusal {
  private refused = false;

  constructor(
    private readonly link: CoordinatorLink,
    private readonly replicaDir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** The coordinator's ledger contradicts the replica at `index`: dispute it and leave. */
  dispute(index: number, code: ErrorCode, why: string): void {
    if (this.refused) return;
    this.refused = true;
    this.log(`!!! LEDGER DIVERGENCE at entry ${index}: ${why}. The replica in ${this.replicaDir} is kept as is; refusing the coordinator's chain, disconnecting and NOT reconnecting.`);
    this.link.send(messageText({ type: 'dispute', v: PROTOCOL_VERSION, index, code, reason: why.slice(0, MAX_REASON) }));
    void this.link.close();
  }

  /** Leave without a word (the coordinator is not the one this site trusts). */
  leave(why: string): void {
    this.refused = true;
    this.log(why);
    void this.link.close();
  }
}
