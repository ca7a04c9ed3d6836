// REST schemas for API tokens. Bodies are attacker-controlled (even an admin's token can leak).

import { Type, type Static } from '@sinclair/typebox';
import { ROLES } from '../../../shared/roles.js';
import { LABEL_MAX, TOKEN_ID_PATTERN } from '../../trust/token-store.js';

export const CreateTokenBody = Type.Object(
  {
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: LABEL_MAX })),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

export const TokenIdParams = Type.Object({ id: Type.String({ pattern: TOKEN_ID_PATTERN }) }, { additionalProperties: false });
export type TokenIdParams = Static<typeof TokenIdParams>;
