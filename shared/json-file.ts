// A small JSON file this project wrote itself (replica.json, endorser.json, the ledger head file),
// read back as untrusted: it may have been edited or cut short. Bad JSON and a schema miss are the
// same coded error, naming the file.

import type { Static, TSchema } from '@sinclair/typebox';
import { FedrxError, type ErrorCode } from './errors.js';
import { expectSchema } from './wire.js';

export function parseJsonFile<T extends TSchema>(schema: T, text: string, code: ErrorCode, file: string): Static<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FedrxError(code, `${file} is not valid JSON`);
  }
  return expectSchema(schema, value, code, file);
}
