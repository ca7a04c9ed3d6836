// The handshake that proves which site a socket speaks for: the coordinator issues a single-use
// nonce bound to the socket; the hello must come back on that socket, in time, signed (Ed25519)
// by the claimed site's current key over the nonce and the coordinator's own key.

import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { FedrxError } from '../../shared/errors.js';
import { helloBody, verify, type KeyPair } from '../../shared/signing.js';
import { PROTOCOL_VERSION, type Challenge, type Hello } from '../../shared/wire.js';

/** The registered sites, as the gateway reads them. */
export interface SiteDirectory {
  get(siteId: string): { id: string; publicKey: string; revokedAt: string | null } | null;
  list(): readonly { id: string; publicKey: string }[];
  touch(siteId: string): void;
}

export class Handshakes {
  /** Challenge nonces: good once, for the socket they were issued to, until they expire. */
  private readonly nonces = new Map<string, { ws: WebSocket; expiresAt: number; used: boolean }>();

  constructor(
    private readonly sites: SiteDirectory,
    private readonly signer: KeyPair,
    /** How long a nonce may be answered; a used nonce is remembered twice as long. */
    private readonly ttlMs: number,
  ) {}

  issue(ws: WebSocket): Challenge {
    const now = Date.now();
    for (const [n, v] of this.nonces) if (now > v.expiresAt + this.ttlMs) this.nonces.delete(n);
    const nonce = randomBytes(32).toString('hex');
    this.nonces.set(nonce, { ws, expiresAt: now + this.ttlMs, used: false });
    return { type: 'challenge', v: PROTOCOL_VERSION, nonce, coordinatorKey: this.signer.publicKey, expiresInSec: Math.max(1, Math.floor(this.ttlMs / 1000)) };
  }

  /** The socket closed: an unused nonce of it is of no more use. */
  forget(nonce: string): void {
    const n = this.nonces.get(nonce);
    if (n !== undefined && !n.used) this.nonces.delete(nonce);
  }

  /**
   * Attacker-controlled `hello`. The nonce is this socket's, fresh and unused; the site is
   * registered, not revoked, and signed it. Returns the key the site proved it holds.
   */
  check(ws: WebSocket, hello: Hello): string {
    const issued = this.nonces.get(hello.nonce);
    if (issued === undefined) throw new FedrxError('E_BAD_NONCE', 'the nonce was not issued by this coordinator');
    if (issued.used) throw new FedrxError('E_NONCE_REPLAYED', 'the nonce was already used: a replayed handshake');
    if (issued.ws !== ws) throw new FedrxError('E_BAD_NONCE', 'the nonce was issued to another connection');
    if (Date.now() > issued.expiresAt) throw new FedrxError('E_NONCE_EXPIRED', 'the nonce expired before the hello arrived');
    issued.used = true;
    const site = this.sites.get(hello.siteId);
    if (site === null) throw new FedrxError('E_UNKNOWN_SITE', `site ${hello.siteId} is not registered`);
    if (site.revokedAt !== null) throw new FedrxError('E_SITE_REVOKED', `site ${hello.siteId} was revoked`);
    // Only the claimed site's current key: trying every registered key would let anyone with a
    // site id make the coordinator do one verification per site for each forged hello.
    if (!verify('hello', helloBody(hello.siteId, hello.nonce, this.signer.publicKey), hello.signature, site.publicKey)) {
      throw new FedrxError('E_BAD_SIGNATURE', `hello signature does not verify under site ${hello.siteId}'s key`);
    }
    return site.publicKey;
  }
}
