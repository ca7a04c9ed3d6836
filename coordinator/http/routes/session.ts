// The dashboard's sign-in and sign-out. The API token is sent once, in a POST body, and the
// browser keeps only the session cookie: HttpOnly (no script reads it), SameSite=Strict (no
// other site's page sends it), Secure under TLS, Path=/, expiring with the session.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { FedrxError } from '../../../shared/errors.js';
import { ROLES } from '../../../shared/roles.js';
import { principalOf } from '../../trust/auth.js';
import { SESSION_COOKIE, type Session, type SessionStore } from '../../trust/sessions.js';
import type { TokenStore } from '../../trust/token-store.js';
import { SessionView, SignInBody } from '../schemas/session.js';
import { ErrorReply } from '../schemas/responses.js';

const view = (s: Session): SessionView => ({
  role: s.principal.role,
  label: s.principal.label,
  tokenId: s.principal.tokenId,
  csrfToken: s.csrfToken,
  expiresAt: new Date(s.expiresAt).toISOString(),
});

export function sessionRoutes(app: FastifyInstance, tokens: TokenStore, sessions: SessionStore, opts: { secure: boolean }): void {
  const cookie = { httpOnly: true, sameSite: 'strict' as const, secure: opts.secure, path: '/' };
  const clear = (reply: FastifyReply): void => {
    reply.clearCookie(SESSION_COOKIE, cookie);
  };

  app.post(
    '/v1/session',
    { schema: { body: SignInBody, response: { 200: SessionView, 401: ErrorReply } }, config: { roles: 'public' } },
    async (req, reply) => {
      const principal = tokens.find((req.body as SignInBody).token);
      if (principal === null) {
        clear(reply);
        throw new FedrxError('E_UNAUTHENTICATED', 'unknown or revoked API token: sign-in refused');
      }
      const { id, session } = sessions.create(principal);
      reply.setCookie(SESSION_COOKIE, id, { ...cookie, expires: new Date(session.expiresAt) });
      return view(session);
    },
  );

  // Any signed-in caller: the page asks who it is after a reload (the CSRF token lives in memory only).
  app.get('/v1/session', { schema: { response: { 200: SessionView } }, config: { roles: ROLES } }, async (req) => {
    const found = sessions.find(req.cookies[SESSION_COOKIE]);
    if (!found.ok) throw new FedrxError('E_NOT_FOUND', `no dashboard session: this ${principalOf(req).role} request carries its API token as a Bearer header`);
    return view(found.session);
  });

  // A write like any other: auth.ts has checked the CSRF token before this runs.
  app.delete('/v1/session', { schema: { response: { 200: { type: 'object', properties: { signedOut: { type: 'boolean' } } } } }, config: { roles: ROLES } }, async (req, reply) => {
    const id = req.cookies[SESSION_COOKIE];
    if (id !== undefined) sessions.end(id);
    clear(reply);
    return { signedOut: true };
  });
}
