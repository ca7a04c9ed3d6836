// Mask material: key agreement (X25519), seeds (HKDF-SHA256), and the expansion of a seed into a
// vector of ring elements (ChaCha20 keystream from node:crypto: the bulk of secure aggregation's
// work, so native). Pairwise masks cancel in the sum: the lower site id adds, the higher subtracts.

import { createCipheriv, randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

const SALT = utf8ToBytes('fedrx/secagg/v1');

export interface X25519Pair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function x25519Pair(): X25519Pair {
  const secretKey = x25519.utils.randomSecretKey();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export const x25519PublicOf = (secretKey: Uint8Array): Uint8Array => x25519.getPublicKey(secretKey);

/** A 32-byte key for `purpose` between two sites of one round, the same from either side. */
export function agreedKey(mySecret: Uint8Array, theirPublic: Uint8Array, purpose: 'pair' | 'box', runId: string, round: number, a: string, b: string): Uint8Array {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  const shared = x25519.getSharedSecret(mySecret, theirPublic);
  return hkdf(sha256, shared, SALT, utf8ToBytes(`${purpose}\0${runId}\0${round}\0${lo}\0${hi}`), 32);
}

export const randomSeed = (): Uint8Array => new Uint8Array(randomBytes(32));

/** Keystream is made this many bytes at a time: it stays in cache while it is added. */
const CHUNK_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK_BYTES);

/** `length` ring elements from `seed`: a ChaCha20 keystream read as little-endian uint32. */
export function expandMask(seed: Uint8Array, length: number): Uint32Array {
  const out = new Uint32Array(length);
  applyMask(out, seed, 1);
  return out;
}

/**
 * dst += sign·expandMask(seed, dst.length) (mod 2^32), in place, without making the mask: the
 * keystream comes in cache-sized chunks, each added as it is made (the bulk of secure
 * aggregation's work, at the sites and at the coordinator alike).
 */
export function applyMask(dst: Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
  // A fixed IV is safe: every seed is used for exactly one mask.
  const cipher = createCipheriv('chacha20', seed, Buffer.alloc(16));
  const words = CHUNK_BYTES / 4;
  for (let at = 0; at < dst.length; at += words) {
    const n = Math.min(words, dst.length - at);
    const bytes = cipher.update(n === words ? ZEROS : ZEROS.subarray(0, n * 4));
    const ks = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, n) : new Uint32Array(new Uint8Array(bytes).buffer, 0, n);
    if (sign === 1) for (let i = 0; i < n; i++) dst[at + i] = (dst[at + i]! + ks[i]!) >>> 0;
    else for (let i = 0; i < n; i++) dst[at + i] = (dst[at + i]! - ks[i]!) >>> 0;
  }
}

/** The sign with which `me` applies the pairwise mask it shares with `other`. */
export const pairSign = (me: string, other: string): 1 | -1 => (me < other ? 1 : -1);

/** dst += src (mod 2^32), in place. */
export function addRing(dst: Uint32Array, src: Uint32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = (dst[i]! + src[i]!) >>> 0;
}
