import { Type, type Static } from '@sinclair/typebox';

export const AuditQuery = Type.Object(
  {
    /** The first sequence number wanted (they start at 1). */
    from: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;
