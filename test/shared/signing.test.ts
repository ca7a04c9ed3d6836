import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/canonical-json.js';
import { endorsementBody, generateKeyPair, publicKeyOf, sign, SIGNATURE_DOMAINS, updateBody, verify } from '../../shared/signing.js';

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

  it('node:crypto signs byte for byte as @noble/curves did, and each verifies the other (fixed keys and messages)', () => {
    // RFC 8032 test 1's seed, an all-zero seed, a seed of 0xff; bodies of several kinds and sizes.
    const seeds = ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', '00'.repeat(32), 'ff'.repeat(32)].map(hexToBytes);
    const bodies: [Parameters<typeof sign>[0], unknown][] = [
      ['update', updateBody(update)],
      ['endorsement', endorsementBody('site-ü', 0, 'e'.repeat(64))],
      ['head', { length: 3, headHash: '1'.repeat(64), recordedAt: '2026-01-01T00:00:00.000Z' }],
      ['stats', { runId: 'r', siteId: 's', statsHash: '2'.repeat(64), rows: 1e6, note: 'x'.repeat(5000) }],
    ];
    // RFC 8032 7.1 test 1: the seed's public key.
    expect(publicKeyOf(seeds[0]!)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    for (const seed of seeds) {
      const pub = publicKeyOf(seed);
      expect(pub).toBe(bytesToHex(ed25519.getPublicKey(seed)));
      for (const [domain, body] of bodies) {
        const message = utf8ToBytes(`${SIGNATURE_DOMAINS[domain]}\0${canonicalJson(body)}`);
        const noble = bytesToHex(ed25519.sign(message, seed));
        const ours = sign(domain, body, seed);
        expect(ours).toBe(noble);
        expect(verify(domain, body, noble, pub)).toBe(true);
        expect(ed25519.verify(hexToBytes(ours), message, hexToBytes(pub))).toBe(true);
      }
    }
  });

  it('a fresh key pair is a 32-byte seed and its public key', () => {
    const k = generateKeyPair();
    expect(k.secretKey).toBeInstanceOf(Uint8Array);
    expect(k.secretKey.length).toBe(32);
    expect(k.publicKey).toBe(bytesToHex(ed25519.getPublicKey(k.secretKey)));
    expect(generateKeyPair().publicKey).not.toBe(k.publicKey);
  });

  it('malformed signatures and keys are false, never a throw', () => {
    const body = endorsementBody('site-a', 1, 'e'.repeat(64));
    expect(verify('endorsement', body, 'zz', K.publicKey)).toBe(false);
    expect(verify('endorsement', body, 'A'.repeat(128), K.publicKey)).toBe(false);
    expect(verify('endorsement', body, '0'.repeat(128), K.publicKey)).toBe(false);
    expect(verify('endorsement', body, sign('endorsement', body, K.secretKey), 'f'.repeat(64))).toBe(false);
    // Not a point on the curve (y = 2 has no x), a key too short, a key in capitals, not strings at all.
    const good = sign('endorsement', body, K.secretKey);
    expect(verify('endorsement', body, good, '02' + '00'.repeat(31))).toBe(false);
    expect(verify('endorsement', body, good, K.publicKey.slice(2))).toBe(false);
    expect(verify('endorsement', body, good, K.publicKey.toUpperCase())).toBe(false);
    expect(verify('endorsement', body, good.slice(0, 126), K.publicKey)).toBe(false);
    expect(verify('endorsement', body, 'f'.repeat(128), K.publicKey)).toBe(false);
    expect(verify('endorsement', body, 7 as unknown as string, K.publicKey)).toBe(false);
    expect(verify('endorsement', body, good, null as unknown as string)).toBe(false);
  });
});
