import { Type, type Static } from '@sinclair/typebox';
import { PageQueryProperties } from './query.js';

/** `from`: the first sequence number wanted (they start at 1). */
export const AuditQuery = Type.Object(PageQueryProperties, { additionalProperties: false });
export type AuditQuery = Static<typeof AuditQuery>;
