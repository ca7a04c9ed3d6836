// Dashboard sessions with a hand-driven clock: found until they expire or are ended; malformed,
// unknown and expired ids find nothing; the CSRF token is compared whole.

import { describe, expect, it } from 'vitest';
import { csrfMatches, SessionStore } from '../../../coordinator/trust/sessions.js';

const who = { tokenId: 'tok-0123456789ab', role: 'auditor' as const, label: 'audit' };

describe('SessionStore', () => {
  it('finds a session by its id until its expiry, then never again', () => {
    let now = 1_000;
    const store = new SessionStore(60_000, () => now);
    const { id, session } = store.create(who);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session).toMatchObject({ principal: who, expiresAt: 61_000 });
    expect(session.csrfToken).not.toBe(id);
    expect(store.find(id)).toEqual({ ok: true, session });
    now = 60_999;
    expect(store.find(id).ok).toBe(true);
    now = 61_000;
    expect(store.find(id)).toEqual({ ok: false, why: 'expired' });
    now = 1_000;
    expect(store.find(id)).toEqual({ ok: false, why: 'expired' });
  });

  it('tells no cookie from a bad one, and ends a session on sign-out', () => {
    const store = new SessionStore();
    const { id } = store.create(who);
    expect(store.find(undefined)).toEqual({ ok: false, why: 'none' });
    expect(store.find('')).toEqual({ ok: false, why: 'none' });
    expect(store.find('x'.repeat(5000)).ok).toBe(false);
    expect(store.find('A'.repeat(43)).ok).toBe(false);
    store.end(id);
    expect(store.find(id)).toEqual({ ok: false, why: 'expired' });
  });

  it('gives each session its own id and CSRF token', () => {
    const store = new SessionStore();
    const a = store.create(who);
    const b = store.create(who);
    expect(a.id).not.toBe(b.id);
    expect(a.session.csrfToken).not.toBe(b.session.csrfToken);
    expect(csrfMatches(a.session, a.session.csrfToken)).toBe(true);
    expect(csrfMatches(a.session, b.session.csrfToken)).toBe(false);
    expect(csrfMatches(a.session, a.session.csrfToken.slice(1))).toBe(false);
    expect(csrfMatches(a.session, undefined)).toBe(false);
    expect(csrfMatches(a.session, [a.session.csrfToken])).toBe(false);
  });
});
