// Who may call which REST route. Every route declares the roles it accepts in its options,
// `config: { roles: ['auditor', …] }` or `config: { roles: 'public' }`; a route that declares
// nothing stops the build (fail closed). Each request then needs `Authorization: Bearer <token>`
// of an accepted role: 401 E_UNAUTHENTICATED without a valid token, 403 E_FORBIDDEN for a role
// the route does not accept. Without that header, the dashboard's session cookie stands for the
// token it was opened with (sessions.ts): same roles, plus its CSRF token on every write.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FedrxError } from '../../shared/errors.js';
import { isRole, type Role } from '../../shared/roles.js';
import type { Principal, TokenStore } from './token-store.js';
import { CSRF_HEADER, SESSION_COOKIE, csrfMatches, type SessionStore } from './sessions.js';

export type RouteAccess = 'public' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: RouteAccess;
  }
  interface FastifyRequest {
    /** The caller, on every route that is not public. */
    principal: Principal | null;
  }
}

export interface DeclaredRoute {
  method: string;
  url: string;
  roles: RouteAccess;
}

const tables = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered on `app` since `installAuth`, with the roles it accepts. */
export function declaredRoutes(app: FastifyInstance): DeclaredRoute[] {
  return [...(tables.get(app) ?? [])];
}

const validAccess = (v: unknown): v is RouteAccess => v === 'public' || (Array.isArray(v) && v.length > 0 && v.every(isRole));

// A token is `frx_` + 43 characters; anything much longer is not worth parsing.
const MAX_AUTHORIZATION = 256;
// RFC 6750 b64token after the (case-insensitive) scheme.
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

function unauthenticated(message: string): FedrxError {
  return new FedrxError('E_UNAUTHENTICATED', `${message}: send "Authorization: Bearer <token>" (tokens come from \`fedrx token create\`)`);
}

// Methods that change nothing: the only ones a session may call without its CSRF token.
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The caller behind a session cookie (attacker-controlled): an expired or signed-out session is
 * E_SESSION_EXPIRED, a revoked token ends its sessions, and a write must carry the CSRF token.
 */
function sessionPrincipal(req: FastifyRequest, tokens: TokenStore, sessions: SessionStore): Principal | null {
  const found = sessions.find(req.cookies?.[SESSION_COOKIE]);
  if (!found.ok) {
    if (found.why === 'none') return null;
    throw new FedrxError('E_SESSION_EXPIRED', 'the dashboard session has expired or was signed out: sign in again with an API token');
  }
  const { session } = found;
  if (!tokens.active(session.principal.tokenId)) throw unauthenticated('the API token of this session was revoked');
  if (!SAFE_METHODS.has(req.method) && !csrfMatches(session, req.headers[CSRF_HEADER])) {
    throw new FedrxError('E_CSRF', `${req.method} ${req.routeOptions.url} from a dashboard session needs its CSRF token in the ${CSRF_HEADER} header`);
  }
  return session.principal;
}

/** Must run before any route is registered, so that every route passes through `onRoute`. */
export function installAuth(app: FastifyInstance, tokens: TokenStore, sessions?: SessionStore): void {
  const table: DeclaredRoute[] = [];
  tables.set(app, table);
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const roles = route.config?.roles;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!validAccess(roles)) {
      throw new Error(`route ${methods.join(',')} ${route.url} must declare config.roles: a non-empty list of roles, or 'public'`);
    }
    for (const method of methods) table.push({ method, url: route.url, roles: roles === 'public' ? roles : [...roles] });
  });

  app.addHook('onRequest', async (req, reply) => {
    const access = req.routeOptions.config.roles;
    // Only Fastify's own 404 handler has no roles (onRoute refuses every other route without them).
    if (access === undefined || access === 'public') return;
    // Attacker-controlled header: bounded, then parsed strictly.
    const header = req.headers.authorization;
    reply.header('www-authenticate', 'Bearer realm="fedrx"');
    let principal: Principal | null;
    if (header === undefined) {
      principal = sessions === undefined ? null : sessionPrincipal(req, tokens, sessions);
      if (principal === null) throw unauthenticated('no API token');
    } else {
      const m = header.length <= MAX_AUTHORIZATION ? BEARER.exec(header) : null;
      if (m === null) throw unauthenticated('malformed Authorization header');
      principal = tokens.find(m[1]!);
      if (principal === null) throw unauthenticated('unknown or revoked API token');
    }
    reply.removeHeader('www-authenticate');
    if (!access.includes(principal.role)) {
      throw new FedrxError(
        'E_FORBIDDEN',
        `role ${principal.role} may not call ${req.method} ${req.routeOptions.url}; it accepts ${access.join(', ')}`,
        { role: principal.role, accepted: [...access] },
      );
    }
    req.principal = principal;
  });
}

/** The caller of a route that is not public (the onRequest hook has already checked it). */
export function principalOf(req: FastifyRequest): Principal {
  if (req.principal === null) throw new FedrxError('E_UNAUTHENTICATED', 'no authenticated caller');
  return req.principal;
}
