// Dashboard sessions: a browser signs in once with an API token and then holds only a random
// session id in an HttpOnly cookie, never the token. Kept in memory (a restart signs everyone
// out) and keyed by a hash of the id. Each session has its own CSRF token, which the page reads
// from the sign-in answer and sends back as a header on every write (auth.ts checks it).

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from './token-store.js';

export const SESSION_COOKIE = 'fedrx_session';
export const CSRF_HEADER = 'x-csrf-token';
/** Eight hours: a working day, after which the dashboard asks for the token again. */
export const DEFAULT_SESSION_TTL_MS = 8 * 3600 * 1000;
// 32 random bytes in base64url.
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
// Sessions are cheap, but an unbounded map is not: the oldest go first beyond this.
const MAX_SESSIONS = 10_000;

export interface Session {
  principal: Principal;
  csrfToken: string;
  expiresAt: number;
}

export type SessionLookup = { ok: true; session: Session } | { ok: false; why: 'none' | 'expired' };

const hashId = (id: string): string => createHash('sha256').update(`fedrx/session/v1\0${id}`).digest('hex');

export class SessionStore {
  private readonly byHash = new Map<string, Session>();

  constructor(
    readonly ttlMs = DEFAULT_SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session for `principal`: the id goes in the cookie, the CSRF token to the page. */
  create(principal: Principal): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const session: Session = { principal, csrfToken: randomBytes(32).toString('base64url'), expiresAt: this.now() + this.ttlMs };
    if (this.byHash.size >= MAX_SESSIONS) this.byHash.delete(this.byHash.keys().next().value!);
    this.byHash.set(hashId(id), session);
    return { id, session };
  }

  /** Attacker-controlled `id` (a cookie): malformed, unknown and expired ids all find nothing. */
  find(id: string | undefined): SessionLookup {
    if (id === undefined || id === '') return { ok: false, why: 'none' };
    if (!ID_PATTERN.test(id)) return { ok: false, why: 'expired' };
    const key = hashId(id);
    const session = this.byHash.get(key);
    if (session === undefined) return { ok: false, why: 'expired' };
    if (session.expiresAt <= this.now()) {
      this.byHash.delete(key);
      return { ok: false, why: 'expired' };
    }
    return { ok: true, session };
  }

  /** Sign-out: the id finds nothing from now on. */
  end(id: string): void {
    this.byHash.delete(hashId(id));
  }
}

/** Attacker-controlled `sent` (a header), compared in constant time with the session's token. */
export function csrfMatches(session: Session, sent: string | string[] | undefined): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
