// REST schemas for the dashboard's sign-in. The body is attacker-controlled: bounded here.

import { Type, type Static } from '@sinclair/typebox';
import { ROLES } from '../../../shared/roles.js';

export const SignInBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export type SignInBody = Static<typeof SignInBody>;

/** What the page learns at sign-in: who it is and the CSRF token for its writes (never the session id). */
export const SessionView = Type.Object({
  role: Type.Union(ROLES.map((r) => Type.Literal(r))),
  label: Type.Union([Type.String(), Type.Null()]),
  tokenId: Type.String(),
  csrfToken: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type SessionView = Static<typeof SessionView>;
