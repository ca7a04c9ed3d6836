// What a site that has just said hello receives about the ledger: the entries its replica lacks,
// in chunks, when its head is a prefix of our chain; a coded refusal when it is not.

import type { ErrorCode } from '../../shared/errors.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import type { Hello } from '../../shared/wire.js';

const LEDGER_SYNC_CHUNK = 256;

export interface LedgerReader {
  head(): { length: number; headHash: string };
  get(index: number): LedgerEntry | null;
  list(from: number, limit: number): LedgerEntry[];
}

/** Attacker-controlled `replica` (from the hello): only its length and head hash are read. */
export function replicaSync(ledger: LedgerReader, replica: Hello['replica']): { refusal: { code: ErrorCode; message: string } } | { batches: LedgerEntry[][] } {
  const ours = ledger.head();
  if (replica.length > ours.length) {
    return { refusal: { code: 'E_REPLICA_DIVERGED', message: `site replica has ${replica.length} entries, coordinator has ${ours.length}` } };
  }
  if (replica.length > 0 && ledger.get(replica.length - 1)?.entryHash !== replica.headHash) {
    return { refusal: { code: 'E_REPLICA_DIVERGED', message: `site replica entry ${replica.length - 1} differs from the coordinator's` } };
  }
  const batches: LedgerEntry[][] = [];
  for (let from = replica.length; from < ours.length; from += LEDGER_SYNC_CHUNK) batches.push(ledger.list(from, LEDGER_SYNC_CHUNK));
  return { batches };
}
