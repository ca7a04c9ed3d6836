// A site's side of one secure round, as state plus pure steps (the agent does the I/O):
//   setup  → advertise two fresh X25519 keys, signed with the site's identity key;
//   roster → split the self-mask seed and the mask key into shares, one sealed box per neighbour;
//   inbox  → open the neighbours' boxes and keep the shares;
//   update → mask the quantised update with the self mask and a pairwise mask per neighbour;
//   unmask → for each neighbour, reveal the share of its self-mask seed (it survived) or of its
//            mask key (it dropped), never both for one site.

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { FedrxError } from '../errors.js';
import { sign, verify } from '../signing.js';
import { agreedKey, applyMask, pairSign, randomSeed, x25519Pair, type X25519Pair } from './masks.js';
import { neighboursOf, type SecureParams } from './params.js';
import { shareSecret } from './shamir.js';
import { openShares, sealShares, type ShareBundle } from './share-box.js';
import { keysBody, type KeyAdvert, type SecaggInbox, type SecaggRoster, type SecaggSetup, type SecaggShares, type SecaggUnmask } from './wire.js';

export interface ClientRound {
  readonly runId: string;
  readonly round: number;
  readonly siteId: string;
  readonly params: SecureParams;
  readonly neighbours: readonly string[];
  readonly c: X25519Pair;
  readonly s: X25519Pair;
  /** Neighbours' keys as the roster gave them (signatures checked). */
  peers: Map<string, { cPk: Uint8Array; sPk: Uint8Array }>;
  selfSeed: Uint8Array | null;
  /** Shares this site holds, by the site they belong to (its own included). */
  held: Map<string, ShareBundle>;
  /** Neighbours whose boxes opened: the ones it masks with. */
  maskWith: string[];
  /** What was revealed of each site, so the other half is never given out. */
  revealed: Map<string, 'self' | 'key'>;
}

const refuse = (code: 'E_SECAGG_KEYS' | 'E_SECAGG_SHARE' | 'E_SECAGG_REVEAL' | 'E_SECAGG_PARAMS', why: string): FedrxError => new FedrxError(code, why);

/** Step 1: fresh keys for this round, and their signed advertisement. */
export function startRound(setup: SecaggSetup, siteId: string, identitySecret: Uint8Array): { state: ClientRound; advert: KeyAdvert } {
  if (!setup.sites.includes(siteId)) throw refuse('E_SECAGG_PARAMS', `this site is not among the round's ${setup.sites.length} sites`);
  const sorted = [...setup.sites].sort();
  if (sorted.some((s, i) => i > 0 && s === sorted[i - 1])) throw refuse('E_SECAGG_PARAMS', 'the round lists a site twice');
  const c = x25519Pair();
  const s = x25519Pair();
  const body = keysBody({ runId: setup.runId, round: setup.round, siteId, cPk: bytesToHex(c.publicKey), sPk: bytesToHex(s.publicKey) });
  const state: ClientRound = {
    runId: setup.runId,
    round: setup.round,
    siteId,
    params: setup.params,
    neighbours: neighboursOf(siteId, sorted, setup.params.neighbours),
    c,
    s,
    peers: new Map(),
    selfSeed: null,
    held: new Map(),
    maskWith: [],
    revealed: new Map(),
  };
  return { state, advert: { ...body, signature: sign('secagg-keys', body, identitySecret) } };
}

/** Step 2: checks the roster, then seals a share of both secrets for each neighbour in it. */
export async function shareKeys(state: ClientRound, roster: SecaggRoster): Promise<Omit<SecaggShares, 'type' | 'v'>> {
  const mine = roster.keys.find((k) => k.siteId === state.siteId);
  if (mine === undefined || mine.cPk !== bytesToHex(state.c.publicKey) || mine.sPk !== bytesToHex(state.s.publicKey)) {
    throw refuse('E_SECAGG_KEYS', 'the roster does not carry the keys this site advertised');
  }
  const seen = new Set<string>();
  for (const k of roster.keys) {
    if (seen.has(k.siteId)) throw refuse('E_SECAGG_KEYS', `the roster lists ${k.siteId} twice`);
    seen.add(k.siteId);
    if (k.siteId === state.siteId) continue;
    if (!state.neighbours.includes(k.siteId)) throw refuse('E_SECAGG_KEYS', `the roster names ${k.siteId}, which is not a neighbour of this site`);
    if (!verify('secagg-keys', keysBody({ ...k, runId: state.runId, round: state.round }), k.signature, k.publicKey)) {
      throw refuse('E_SECAGG_KEYS', `the keys of ${k.siteId} are not signed by its identity key for run ${state.runId} round ${state.round}`);
    }
    state.peers.set(k.siteId, { cPk: hexToBytes(k.cPk), sPk: hexToBytes(k.sPk) });
  }
  const holders = [state.siteId, ...state.peers.keys()].sort();
  if (holders.length < state.params.threshold) throw refuse('E_SECAGG_PARAMS', `${holders.length} share holders remain around this site, the threshold is ${state.params.threshold}`);
  const seed = randomSeed();
  state.selfSeed = seed;
  const selfShares = await shareSecret(seed, holders, state.params.threshold);
  const keyShares = await shareSecret(state.s.secretKey, holders, state.params.threshold);
  state.held.set(state.siteId, { selfShare: selfShares.get(state.siteId)!, keyShare: keyShares.get(state.siteId)! });
  const boxes = [...state.peers].map(([to, pk]) => ({
    to,
    box: sealShares({ runId: state.runId, round: state.round, from: state.siteId, to }, state.c.secretKey, pk.cPk, { selfShare: selfShares.get(to)!, keyShare: keyShares.get(to)! }),
  }));
  return { runId: state.runId, round: state.round, siteId: state.siteId, selfCommit: bytesToHex(sha256(seed)), boxes };
}

/** Step 3: opens each neighbour's box; returns the senders whose boxes did not open (left out). */
export function receiveInbox(state: ClientRound, inbox: SecaggInbox): { from: string; code: string }[] {
  const refused: { from: string; code: string }[] = [];
  const opened = new Set<string>();
  for (const { from, box } of inbox.boxes) {
    const peer = state.peers.get(from);
    if (peer === undefined || opened.has(from)) {
      refused.push({ from, code: 'E_SECAGG_SHARE' });
      continue;
    }
    try {
      state.held.set(from, openShares({ runId: state.runId, round: state.round, from, to: state.siteId }, state.c.secretKey, peer.cPk, box));
      opened.add(from);
    } catch (e) {
      refused.push({ from, code: e instanceof FedrxError ? e.code : 'E_SECAGG_SHARE' });
    }
  }
  state.maskWith = [...opened].sort();
  return refused;
}

/** Step 4: the quantised vector masked (a new array); `plain` is not changed. */
export function maskVector(state: ClientRound, plain: Uint32Array): Uint32Array {
  if (state.selfSeed === null) throw refuse('E_SECAGG_PARAMS', 'no shares were made for this round');
  const out = plain.slice();
  applyMask(out, state.selfSeed, 1);
  for (const other of state.maskWith) {
    const seed = agreedKey(state.s.secretKey, state.peers.get(other)!.sPk, 'pair', state.runId, state.round, state.siteId, other);
    applyMask(out, seed, pairSign(state.siteId, other));
  }
  return out;
}

/**
 * Step 5: the shares the coordinator may have. An honest site refuses the whole request when it
 * names a site as both survivor and dropped, asks for the other half of a site already revealed,
 * or counts fewer survivors than the threshold.
 */
export function reveal(state: ClientRound, req: SecaggUnmask): { selfShares: { of: string; share: string }[]; keyShares: { of: string; share: string }[] } {
  const survivors = new Set(req.survivors);
  const dropped = new Set(req.dropped);
  const both = req.survivors.find((s) => dropped.has(s));
  if (both !== undefined) throw refuse('E_SECAGG_REVEAL', `the unmask request names ${both} both as a survivor and as dropped: revealing both halves would expose its update`);
  if (!survivors.has(state.siteId)) throw refuse('E_SECAGG_REVEAL', 'the unmask request does not count this site among the survivors');
  if (survivors.size < state.params.threshold) throw refuse('E_SECAGG_REVEAL', `${survivors.size} survivors are fewer than the threshold ${state.params.threshold}`);
  for (const [of, kind] of state.revealed) {
    const now = survivors.has(of) ? 'self' : dropped.has(of) ? 'key' : kind;
    if (now !== kind) throw refuse('E_SECAGG_REVEAL', `the ${kind === 'self' ? 'self-mask' : 'key'} share of ${of} was already revealed; its other share is refused`);
  }
  const selfShares: { of: string; share: string }[] = [];
  const keyShares: { of: string; share: string }[] = [];
  for (const [of, bundle] of state.held) {
    if (survivors.has(of)) {
      state.revealed.set(of, 'self');
      selfShares.push({ of, share: bytesToHex(bundle.selfShare) });
    } else if (dropped.has(of)) {
      state.revealed.set(of, 'key');
      keyShares.push({ of, share: bytesToHex(bundle.keyShare) });
    }
  }
  return { selfShares, keyShares };
}
