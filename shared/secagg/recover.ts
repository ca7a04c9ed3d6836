// The coordinator's last step of a secure round: from the sum of the survivors' masked vectors,
// take away each survivor's self mask (its seed rebuilt from the neighbours' shares and checked
// against its commitment) and each dropped site's pairwise masks with its surviving neighbours
// (its mask key rebuilt and checked against its advertised public key). What is left is the sum
// of the survivors' quantised vectors; no single one is ever seen.

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { FedrxError } from '../errors.js';
import { agreedKey, applyMask, pairSign, x25519PublicOf } from './masks.js';
import { neighboursOf, type SecureParams } from './params.js';
import { rebuildSecret } from './shamir.js';

export interface RecoveryInput {
  runId: string;
  round: number;
  params: SecureParams;
  /** The round's sites, sorted: what the neighbour graph is drawn on. */
  sites: readonly string[];
  /** Mask-agreement public keys (hex) of the sites that advertised. */
  sPk: ReadonlyMap<string, string>;
  /** Self-mask commitments of the sites that shared. */
  selfCommits: ReadonlyMap<string, string>;
  /** Sites whose masked vectors are in `maskedSum`. */
  survivors: readonly string[];
  /** Sites that shared but whose vectors are not in the sum. */
  dropped: readonly string[];
  /** Which sites each survivor masked with (the senders of the boxes it opened). */
  maskedWith: ReadonlyMap<string, readonly string[]>;
  /** Shares revealed, by the site they belong to. */
  selfShares: ReadonlyMap<string, Uint8Array[]>;
  keyShares: ReadonlyMap<string, Uint8Array[]>;
}

/** Unmasks `maskedSum` in place and returns it. */
export async function unmaskSum(maskedSum: Uint32Array, r: RecoveryInput): Promise<Uint32Array> {
  const t = r.params.threshold;
  for (const site of r.survivors) {
    const seed = await rebuildSecret(r.selfShares.get(site) ?? [], t, `self-mask seed of ${site}`);
    if (bytesToHex(sha256(seed)) !== r.selfCommits.get(site)) throw new FedrxError('E_SECAGG_REVEAL', `the rebuilt self-mask seed of ${site} does not match its commitment: a revealed share is wrong`);
    applyMask(maskedSum, seed, -1);
  }
  const survivors = new Set(r.survivors);
  for (const gone of r.dropped) {
    const secret = await rebuildSecret(r.keyShares.get(gone) ?? [], t, `mask key of ${gone}`);
    const advertised = r.sPk.get(gone);
    if (advertised === undefined || bytesToHex(x25519PublicOf(secret)) !== advertised) {
      throw new FedrxError('E_SECAGG_REVEAL', `the rebuilt mask key of ${gone} does not match its advertised key: a revealed share is wrong`);
    }
    for (const other of neighboursOf(gone, r.sites, r.params.neighbours)) {
      if (!survivors.has(other) || !(r.maskedWith.get(other) ?? []).includes(gone)) continue;
      const seed = agreedKey(secret, hexToBytes(r.sPk.get(other)!), 'pair', r.runId, r.round, gone, other);
      // `other` applied pairSign(other, gone)·mask: take it away.
      applyMask(maskedSum, seed, pairSign(other, gone) === 1 ? -1 : 1);
    }
  }
  return maskedSum;
}
