// A site's shares for one neighbour, sealed so that only that neighbour opens them
// (ChaCha20-Poly1305 under an X25519 + HKDF key). The coordinator relays the box and cannot read
// it; the run, round and both site ids are bound as associated data, so a box replayed from
// another round or addressed to another site does not open.

import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { FedrxError } from '../errors.js';
import { agreedKey } from './masks.js';

export interface ShareBundle {
  /** The share of the sender's self-mask seed. */
  selfShare: Uint8Array;
  /** The share of the sender's mask-agreement secret key. */
  keyShare: Uint8Array;
}

export interface BoxRef {
  runId: string;
  round: number;
  from: string;
  to: string;
}

const SHARE_BYTES = 33; // a 32-byte secret plus the share's x-coordinate
const NONCE_BYTES = 12;

const aad = (r: BoxRef): Uint8Array => utf8ToBytes(`fedrx/secagg-box/v1\0${r.runId}\0${r.round}\0${r.from}\0${r.to}`);

export function sealShares(ref: BoxRef, mySecret: Uint8Array, theirPublic: Uint8Array, bundle: ShareBundle): string {
  const key = agreedKey(mySecret, theirPublic, 'box', ref.runId, ref.round, ref.from, ref.to);
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const plain = new Uint8Array(2 * SHARE_BYTES);
  plain.set(bundle.selfShare, 0);
  plain.set(bundle.keyShare, SHARE_BYTES);
  const sealed = chacha20poly1305(key, nonce, aad(ref)).encrypt(plain);
  return Buffer.concat([nonce, sealed]).toString('base64');
}

/** Attacker-controlled `box` (relayed by the coordinator from `ref.from`): opens it or throws E_SECAGG_SHARE. */
export function openShares(ref: BoxRef, mySecret: Uint8Array, theirPublic: Uint8Array, box: string): ShareBundle {
  const bytes = Buffer.from(box, 'base64');
  if (bytes.length !== NONCE_BYTES + 2 * SHARE_BYTES + 16) throw new FedrxError('E_SECAGG_SHARE', `the share box from ${ref.from} has ${bytes.length} bytes`);
  const key = agreedKey(mySecret, theirPublic, 'box', ref.runId, ref.round, ref.from, ref.to);
  let plain: Uint8Array;
  try {
    plain = chacha20poly1305(key, bytes.subarray(0, NONCE_BYTES), aad(ref)).decrypt(bytes.subarray(NONCE_BYTES));
  } catch {
    throw new FedrxError('E_SECAGG_SHARE', `the share box from ${ref.from} does not open for run ${ref.runId} round ${ref.round}: another round, another recipient, or keys other than those ${ref.from} advertised`);
  }
  return { selfShare: plain.slice(0, SHARE_BYTES), keyShare: plain.slice(SHARE_BYTES) };
}
