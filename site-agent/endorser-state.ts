// What the endorser must not forget across a restart of the agent: the model hashes this site
// received and checked itself, and the entries it took part in that still wait for their model.
// One small JSON file in the replica folder, replaced whole (temporary file, fsync, rename).

import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { parseJsonFile } from '../shared/json-file.js';

export const ENDORSER_STATE_FILE = 'endorser.json';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const EndorserStateSchema = Type.Object(
  {
    /** Models whose bytes this site received and hashed, oldest first. */
    seenModels: Type.Array(Hex64),
    /** Ledger indexes this site took part in and will endorse once it has received their model. */
    waiting: Type.Array(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type EndorserState = Static<typeof EndorserStateSchema>;

export async function readEndorserState(dir: string): Promise<EndorserState> {
  const file = path.join(dir, ENDORSER_STATE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { seenModels: [], waiting: [] };
    throw e;
  }
  return parseJsonFile(EndorserStateSchema, text, 'E_LEDGER_BROKEN', file);
}

export async function writeEndorserState(dir: string, state: EndorserState): Promise<void> {
  const file = path.join(dir, ENDORSER_STATE_FILE);
  const fh = await open(`${file}.tmp`, 'w');
  try {
    await fh.writeFile(JSON.stringify(state) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(`${file}.tmp`, file);
}
