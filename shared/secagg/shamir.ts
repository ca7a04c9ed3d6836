// Shamir secret sharing of 32-byte secrets over GF(256), with the audited `shamir-secret-sharing`
// library. A share is 33 bytes: the secret's length in shares plus its x-coordinate.

import { combine, split } from 'shamir-secret-sharing';
import { FedrxError } from '../errors.js';

/** `holders` shares of `secret`, any `threshold` of which rebuild it, in the order of `holders`. */
export async function shareSecret<H extends string>(secret: Uint8Array, holders: readonly H[], threshold: number): Promise<Map<H, Uint8Array>> {
  const shares = await split(secret, holders.length, threshold);
  return new Map(holders.map((h, i) => [h, shares[i]!]));
}

/** The secret from at least `threshold` shares (the caller checks what it rebuilt: shares are not authenticated). */
export async function rebuildSecret(shares: readonly Uint8Array[], threshold: number, what: string): Promise<Uint8Array> {
  if (shares.length < threshold) throw new FedrxError('E_SECAGG_THRESHOLD', `${what}: ${shares.length} shares revealed, ${threshold} needed`);
  try {
    return await combine(shares.slice(0, threshold) as Uint8Array[]);
  } catch (e) {
    throw new FedrxError('E_SECAGG_REVEAL', `${what}: the revealed shares do not combine (${(e as Error).message})`);
  }
}
