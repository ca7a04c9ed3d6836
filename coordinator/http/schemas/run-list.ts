// GET /v1/runs: how many of the newest runs to list. Query strings are attacker-controlled text.

import { Type, type Static } from '@sinclair/typebox';
import { MAX_LIMIT, QueryInteger } from './query.js';

export const RunListQuery = Type.Object({ limit: Type.Optional(QueryInteger(1, MAX_LIMIT)) }, { additionalProperties: false });
export type RunListQuery = Static<typeof RunListQuery>;
