// Asks a site that has just connected for the endorsements the coordinator lacks from it: entries
// the site took part in with no endorsement of it stored (a crash between commit and endorsement
// loses them otherwise for ever, although the site kept its copy). Read-only on the store.

import { MAX_ENDORSEMENT_REQUEST, PROTOCOL_VERSION, type EndorsementRequest } from '../../shared/wire.js';
import type { Store } from '../store/store.js';

/** Ledger indexes `siteId` took part in without an endorsement by it stored, oldest first, the newest `limit`. */
export function entriesLackingEndorsement(store: Store, siteId: string, limit = MAX_ENDORSEMENT_REQUEST): number[] {
  const rows = store.db
    .prepare(
      `SELECT idx FROM ledger l
       WHERE EXISTS (SELECT 1 FROM json_each(l.participants_json) p WHERE json_extract(p.value, '$.siteId') = ?)
         AND NOT EXISTS (SELECT 1 FROM endorsements e WHERE e.entry_index = l.idx AND e.site_id = ?)
       ORDER BY idx DESC LIMIT ?`,
    )
    .all(siteId, siteId, limit) as { idx: number }[];
  return rows.map((r) => r.idx).reverse();
}

/** The request to send after the welcome, or null when nothing is missing. */
export function endorsementRequest(store: Store, siteId: string): EndorsementRequest | null {
  const indexes = entriesLackingEndorsement(store, siteId);
  return indexes.length === 0 ? null : { type: 'endorsement-request', v: PROTOCOL_VERSION, indexes };
}
