import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { endorsementBody, generateKeyPair, publicKeyOf, sign, updateBody, verify } from '../../shared/signing.js';

const K = generateKeyPair();
const update = { runId: 'run-1', round: 2, siteId: 'site-a', baseModelHash: 'a'.repeat(64), updateHash: 'b'.repeat(64), numExamples: 7 };

describe('signing', () => {
  it('signs the domain, a NUL and the canonical JSON of the body (checked against raw Ed25519)', () => {
    const sig = sign('update', updateBody(update), K.secretKey);
    const message =
      'fedrx/update/v1\0{"baseModelHash":"' + 'a'.repeat(64) + '","numExamples":7,"round":2,"runId":"run-1","siteId":"site-a","updateHash":"' + 'b'.repeat(64) + '"}';
    expect(sig).toBe(bytesToHex(ed25519.sign(utf8ToBytes(message), K.secretKey)));
    expect(verify('update', updateBody(update), sig, K.publicKey)).toBe(true);
    expect(publicKeyOf(K.secretKey)).toBe(K.publicKey);
  });

  it('a signature is bound to its domain, every field and the key', () => {
    const sig = sign('update', updateBody(update), K.secretKey);
    for (const [k, v] of Object.entries({ runId: 'run-2', round: 3, siteId: 'site-b', baseModelHash: 'c'.repeat(64), updateHash: 'd'.repeat(64), numExamples: 8 })) {
      expect(verify('update', updateBody({ ...update, [k]: v }), sig, K.publicKey)).toBe(false);
    }
    // The same bytes under another domain (an endorsement of a look-alike body) do not verify.
    expect(verify('endorsement', updateBody(update), sig, K.publicKey)).toBe(false);
    expect(verify('update', updateBody(update), sig, generateKeyPair().publicKey)).toBe(false);
    // Extra fields never reach the signed body.
    expect(updateBody({ ...update, trainLoss: 1, signature: 'x' } as typeof update)).toEqual(update);
  });

  it('malformed signatures and keys are false, never a throw', () => {
    const body = endorsementBody('site-a', 1, 'e'.repeat(64));
    expect(verify('endorsement', body, 'zz', K.publicKey)).toBe(false);
    expect(verify('endorsement', body, 'A'.repeat(128), K.publicKey)).toBe(false);
    expect(verify('endorsement', body, '0'.repeat(128), K.publicKey)).toBe(false);
    expect(verify('endorsement', body, sign('endorsement', body, K.secretKey), 'f'.repeat(64))).toBe(false);
  });
});
