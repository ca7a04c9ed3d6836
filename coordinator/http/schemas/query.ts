// Query-string pieces shared by the REST schemas. Query strings are attacker-controlled text.

import { Type, type TInteger } from '@sinclair/typebox';

/**
 * A bounded integer in a query string. ajv's type coercion reads "Infinity", "-Infinity" and
 * numbers of 309 or more digits as ±Infinity and then skips minimum/maximum, which only test
 * finite numbers; the inner `allOf` checks the coerced value again, as an integer (finite)
 * within the bounds, so those get a 400 instead of reaching SQLite.
 */
export function QueryInteger(minimum: number, maximum: number): TInteger {
  return Type.Integer({ minimum, maximum, allOf: [Type.Integer({ minimum, maximum })] });
}

/** The largest `from` a listing accepts: any sequence number or ledger index there can be. */
export const MAX_FROM = Number.MAX_SAFE_INTEGER;
/** The most rows one page of a listing returns. */
export const MAX_LIMIT = 5000;

/** `?from=&limit=` of a paged listing. */
export const PageQueryProperties = {
  from: Type.Optional(QueryInteger(0, MAX_FROM)),
  limit: Type.Optional(QueryInteger(1, MAX_LIMIT)),
};
