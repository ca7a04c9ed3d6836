// A site that connects is asked for exactly the endorsements the coordinator lacks from it: of
// entries it took part in, not those it endorsed already nor those of other sites.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { entriesLackingEndorsement } from '../../../coordinator/trust/endorsement-sync.js';
import { headSigned, type SignedHead } from '../../../shared/ledger-head.js';
import { PROTOCOL_VERSION } from '../../../shared/wire.js';
import { endorse, LEDGER_KEY, signedLedger } from '../../helpers/signed-ledger.js';
import { TestPeer } from '../../helpers/test-peer.js';
import { tempDir } from '../../helpers/temp.js';

let coordinator: Coordinator | undefined;
afterAll(async () => coordinator?.close());

describe('endorsement sync', () => {
  it('lists the entries a site took part in without its endorsement, and asks for them after the welcome', async () => {
    const file = join(tempDir('endorsement-sync'), 'c.sqlite');
    // Entries 0..3 by site-a and site-b, none endorsed; then entry 4 by site-c alone.
    const { store, sites, entries } = signedLedger(file, 3, { endorse: false });
    signedLedger(file, 0, { siteIds: ['site-c'], endorse: false }).store.db.close();
    const b = endorse(sites['site-b']!, entries[1]!);
    store.endorsements.add({ entryIndex: 1, siteId: 'site-b', entryHash: b.entryHash, signature: b.signature });
    expect(entriesLackingEndorsement(store, 'site-a')).toEqual([0, 1, 2, 3]);
    expect(entriesLackingEndorsement(store, 'site-b')).toEqual([0, 2, 3]);
    expect(entriesLackingEndorsement(store, 'site-c')).toEqual([4]);
    expect(entriesLackingEndorsement(store, 'site-b', 2)).toEqual([2, 3]); // the newest, when bounded
    expect(entriesLackingEndorsement(store, 'site-zz')).toEqual([]);
    store.db.close();

    coordinator = await buildCoordinator({ db: file, signer: LEDGER_KEY, log: () => {}, auditKey: new Uint8Array(32) });
    const url = await coordinator.listen(0);
    const peer = await TestPeer.admit(url, sites['site-b']!);
    // The welcome carries the head, signed: the site keeps it in replica.json.
    const welcome = peer.received.json.find((m) => m.type === 'welcome') as { head: SignedHead };
    expect(welcome.head).toMatchObject({ length: 5, coordinatorKey: LEDGER_KEY.publicKey });
    expect(headSigned(welcome.head)).toBe(true);
    const request = await peer.until((r) => r.json.find((m) => m.type === 'endorsement-request'));
    expect(request).toEqual({ type: 'endorsement-request', v: PROTOCOL_VERSION, indexes: [0, 2, 3] });
    // It answers from what it kept; the coordinator stores it and asks only for the rest next time.
    const kept = endorse(sites['site-b']!, entries[2]!);
    peer.send(JSON.stringify({ type: 'endorsement', v: PROTOCOL_VERSION, ...kept }));
    await peer.until(() => entriesLackingEndorsement(coordinator!.store, 'site-b').length === 2);
    peer.close();
    expect(entriesLackingEndorsement(coordinator.store, 'site-b')).toEqual([0, 3]);
    const again = await TestPeer.admit(url, sites['site-b']!);
    expect(await again.until((r) => r.json.find((m) => m.type === 'endorsement-request'))).toMatchObject({ indexes: [0, 3] });
    again.close();
  });
});
