import { Type, type Static } from '@sinclair/typebox';
import { PageQueryProperties } from './query.js';

export const LedgerQuery = Type.Object(PageQueryProperties, { additionalProperties: false });
export type LedgerQuery = Static<typeof LedgerQuery>;
