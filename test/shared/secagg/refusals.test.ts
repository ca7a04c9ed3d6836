// Each hostile message of a secure round is refused with a code, and nothing of it is kept:
// a masked upload of the wrong length or ring, a share for a site that is not a neighbour, a share
// replayed from an earlier round, a site that advertises different keys, a box sealed under keys
// other than those advertised, and a coordinator that asks a site for both halves of one site's secrets.

import { thrownCode } from '../../helpers/error-code.js';
import { describe, expect, it } from 'vitest';
import { SecureSum } from '../../../coordinator/secure/secure-sum.js';
import { FedrxError, type ErrorCode } from '../../../shared/errors.js';
import { maskVector, receiveInbox, reveal, shareKeys, startRound, type ClientRound } from '../../../shared/secagg/client.js';
import { resolveParams } from '../../../shared/secagg/params.js';
import type { KeyAdvert, SecaggShares } from '../../../shared/secagg/wire.js';
import { generateKeyPair, type KeyPair } from '../../../shared/signing.js';
import { decodeFrameU32, encodeFrameU32 } from '../../../shared/tensor-codec.js';

const SITES = ['a', 'b', 'c', 'd', 'e', 'f'];
const ids = new Map<string, KeyPair>(SITES.map((s) => [s, generateKeyPair()]));
const LENGTH = 12;


async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'none'> {
  try {
    await p;
    return 'none';
  } catch (e) {
    if (e instanceof FedrxError) return e.code;
    throw e;
  }
}

/** A round set up to its inbox: the coordinator's SecureSum, each site's state, and what each shared. */
async function shared(round = 1, neighbours = 5, threshold = 4) {
  const params = resolveParams({ neighbours, threshold }, SITES.length, 100);
  const sum = new SecureSum({ runId: 'r', round, params, sites: SITES, length: LENGTH });
  const clients = new Map<string, ClientRound>();
  const adverts = new Map<string, KeyAdvert>();
  for (const s of SITES) {
    const { state, advert } = startRound({ type: 'secagg-setup', v: 1, runId: 'r', round, params, sites: SITES }, s, ids.get(s)!.secretKey);
    clients.set(s, state);
    adverts.set(s, advert);
    sum.addAdvert(advert, ids.get(s)!.publicKey);
  }
  const messages = new Map<string, SecaggShares>();
  for (const s of SITES) {
    const m: SecaggShares = { type: 'secagg-shares', v: 1, ...(await shareKeys(clients.get(s)!, sum.rosterFor(s))) };
    messages.set(s, m);
    sum.addShares(m);
  }
  return { params, sum, clients, adverts, messages };
}

describe('secure aggregation refuses hostile messages', () => {
  it('a masked upload of the wrong length is refused (E_SECAGG_MASKED); a float32 frame is not a ring frame (E_FRAME_HEADER)', async () => {
    const { sum, clients } = await shared();
    for (const s of SITES) sum.addOpened(s, receiveInbox(clients.get(s)!, sum.inboxFor(s)));
    expect(thrownCode(() => sum.addMasked('a', new Uint32Array(LENGTH - 1)))).toBe('E_SECAGG_MASKED');
    expect(thrownCode(() => sum.addMasked('a', new Uint32Array(LENGTH + 5)))).toBe('E_SECAGG_MASKED');
    // Masked for another attempt at this round (a round redone after a coordinator restart has new keys).
    expect(thrownCode(() => sum.addMasked('a', new Uint32Array(LENGTH), 'ab'.repeat(32)))).toBe('E_SECAGG_MASKED');
    // The same bytes declared as float32 weights, or as another dtype, do not decode as a masked update.
    const frame = encodeFrameU32({ kind: 'masked-update' }, 'masked', new Uint32Array(LENGTH));
    expect(decodeFrameU32(frame).data).toHaveLength(LENGTH);
    const float32 = Buffer.from(frame.toString('latin1').replace('"dtype":"uint32"', '"dtype":"float32"'), 'latin1');
    expect(thrownCode(() => decodeFrameU32(float32))).toBe('E_FRAME_HEADER');
    // Nothing was folded: a correct upload still goes in, once.
    expect(thrownCode(() => sum.addMasked('a', maskVector(clients.get('a')!, new Uint32Array(LENGTH))))).toBe('no error');
    expect(thrownCode(() => sum.addMasked('a', new Uint32Array(LENGTH)))).toBe('E_DUPLICATE_UPDATE');
  });

  it('a share for a site that is not a neighbour, or two for one, is refused (E_SECAGG_SHARE)', async () => {
    // A ring of 2 neighbours on 6 sites: a's neighbours are b and f.
    const { sum, messages } = await shared(1, 2, 2);
    const a = messages.get('a')!;
    expect(a.boxes.map((b) => b.to).sort()).toEqual(['b', 'f']);
    expect(thrownCode(() => sum.addShares({ ...a, boxes: [...a.boxes.slice(0, 1), { to: 'd', box: a.boxes[1]!.box }] }))).toBe('E_SECAGG_SHARE');
    expect(thrownCode(() => sum.addShares({ ...a, boxes: [a.boxes[0]!, a.boxes[0]!] }))).toBe('E_SECAGG_SHARE');
    // And a site only opens boxes from its neighbours: one relayed from a stranger is refused.
    const { clients } = await shared(1, 2, 2);
    const refused = receiveInbox(clients.get('a')!, { type: 'secagg-inbox', v: 1, runId: 'r', round: 1, boxes: [{ from: 'd', box: a.boxes[0]!.box }] });
    expect(refused).toEqual([{ from: 'd', code: 'E_SECAGG_SHARE' }]);
  });

  it('a share replayed from an earlier round does not open (E_SECAGG_SHARE), and its sender is left out', async () => {
    const earlier = await shared(1);
    const now = await shared(2);
    const old = earlier.sum.inboxFor('c').boxes.find((b) => b.from === 'a')!;
    const inbox = now.sum.inboxFor('c');
    const replayed = { ...inbox, boxes: inbox.boxes.map((b) => (b.from === 'a' ? old : b)) };
    const refused = receiveInbox(now.clients.get('c')!, replayed);
    expect(refused).toEqual([{ from: 'a', code: 'E_SECAGG_SHARE' }]);
    now.sum.addOpened('c', refused);
    for (const s of SITES.filter((s) => s !== 'c')) now.sum.addOpened(s, receiveInbox(now.clients.get(s)!, now.sum.inboxFor(s)));
    expect(now.sum.accused()).toEqual(['a']);
    expect(now.sum.ready()).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect(thrownCode(() => now.sum.addMasked('a', new Uint32Array(LENGTH)))).toBe('E_SECAGG_MASKED');
  });

  it('a site that advertises different keys is refused (E_SECAGG_KEYS), and one that seals with unadvertised keys is left out', async () => {
    const { sum, adverts, clients, params } = await shared();
    const other = startRound({ type: 'secagg-setup', v: 1, runId: 'r', round: 1, params, sites: SITES }, 'b', ids.get('b')!.secretKey).advert;
    expect(thrownCode(() => sum.addAdvert(other, ids.get('b')!.publicKey))).toBe('E_SECAGG_KEYS');
    expect(thrownCode(() => sum.addAdvert({ ...other, siteId: 'c', sPk: adverts.get('d')!.sPk }, ids.get('c')!.publicKey))).toBe('E_SECAGG_KEYS');
    // A roster carrying keys the identity key did not sign is refused by the site that reads it.
    const roster = sum.rosterFor('a');
    const forged = { ...roster, keys: roster.keys.map((k) => (k.siteId === 'b' ? { ...k, cPk: other.cPk } : k)) };
    const fresh = startRound({ type: 'secagg-setup', v: 1, runId: 'r', round: 1, params, sites: SITES }, 'a', ids.get('a')!.secretKey);
    expect(await codeOf(shareKeys(fresh.state, { ...forged, keys: forged.keys.map((k) => (k.siteId === 'a' ? { ...k, cPk: fresh.advert.cPk, sPk: fresh.advert.sPk, signature: fresh.advert.signature } : k)) }))).toBe('E_SECAGG_KEYS');
    // b seals its boxes under a second key pair it never advertised: c opens b's box with b's
    // advertised key, cannot, and names b.
    const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');
    const bState = startRound({ type: 'secagg-setup', v: 1, runId: 'r', round: 1, params, sites: SITES }, 'b', ids.get('b')!.secretKey).state;
    const bRoster = sum.rosterFor('b');
    const rogue = await shareKeys(bState, { ...bRoster, keys: bRoster.keys.map((k) => (k.siteId === 'b' ? { ...k, cPk: hex(bState.c.publicKey), sPk: hex(bState.s.publicKey) } : k)) });
    const inbox = sum.inboxFor('c');
    const swapped = { ...inbox, boxes: inbox.boxes.map((b) => (b.from === 'b' ? { from: 'b', box: rogue.boxes.find((x) => x.to === 'c')!.box } : b)) };
    expect(receiveInbox(clients.get('c')!, swapped)).toEqual([{ from: 'b', code: 'E_SECAGG_SHARE' }]);
  });

  it('an honest site refuses to reveal both the self-mask share and the key share of one site (E_SECAGG_REVEAL)', async () => {
    const { sum, clients } = await shared();
    for (const s of SITES) sum.addOpened(s, receiveInbox(clients.get(s)!, sum.inboxFor(s)));
    const c = clients.get('c')!;
    const base = { type: 'secagg-unmask' as const, v: 1 as const, runId: 'r', round: 1 };
    // Both at once.
    expect(thrownCode(() => reveal(c, { ...base, survivors: ['a', 'b', 'c', 'd', 'e'], dropped: ['a', 'f'] }))).toBe('E_SECAGG_REVEAL');
    // One after the other: first a's self-mask share (a "survived")…
    const first = reveal(c, { ...base, survivors: ['a', 'b', 'c', 'd', 'e'], dropped: ['f'] });
    expect(first.selfShares.map((s) => s.of)).toContain('a');
    // …then a's key share (a "dropped"): refused, and nothing is revealed by that request.
    expect(thrownCode(() => reveal(c, { ...base, survivors: ['b', 'c', 'd', 'e'], dropped: ['a', 'f'] }))).toBe('E_SECAGG_REVEAL');
    // Asking again for what was already given is fine.
    expect(reveal(c, { ...base, survivors: ['a', 'b', 'c', 'd', 'e'], dropped: ['f'] }).selfShares).toEqual(first.selfShares);
    // Too few survivors, or a request that leaves this site out, is refused too.
    expect(thrownCode(() => reveal(c, { ...base, survivors: ['a', 'c', 'd'], dropped: [] }))).toBe('E_SECAGG_REVEAL');
    expect(thrownCode(() => reveal(c, { ...base, survivors: ['a', 'b', 'd', 'e'], dropped: [] }))).toBe('E_SECAGG_REVEAL');
  });

  it('a reveal of a share that was not asked for is refused (E_SECAGG_REVEAL); impossible settings are refused (E_SECAGG_PARAMS)', async () => {
    const { sum, clients } = await shared();
    for (const s of SITES) sum.addOpened(s, receiveInbox(clients.get(s)!, sum.inboxFor(s)));
    for (const s of SITES.slice(0, 5)) sum.addMasked(s, maskVector(clients.get(s)!, new Uint32Array(LENGTH)));
    expect(sum.unmaskRequest()).toMatchObject({ survivors: ['a', 'b', 'c', 'd', 'e'], dropped: ['f'] });
    expect(thrownCode(() => sum.addReveal('a', [{ of: 'f', share: '00'.repeat(33) }], []))).toBe('E_SECAGG_REVEAL');
    expect(thrownCode(() => sum.addReveal('a', [], [{ of: 'b', share: '00'.repeat(33) }]))).toBe('E_SECAGG_REVEAL');
    for (const req of [{ threshold: 2 }, { threshold: 7 }, { neighbours: 1 }, { clip: 0 }, { quantBits: 30 }]) {
      expect(thrownCode(() => resolveParams(req, 6, 100)), JSON.stringify(req)).toBe('E_SECAGG_PARAMS');
    }
    expect(thrownCode(() => resolveParams({ quantBits: 24 }, 300, 100))).toBe('E_SECAGG_PARAMS'); // 300 × 2^24 wraps 2^32
    expect(thrownCode(() => resolveParams({}, 2, 100))).toBe('E_SECAGG_PARAMS');
  });
});
