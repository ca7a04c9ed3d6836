// What the endorser must not forget across a restart of the agent: the model hashes this site
// received and checked itself, the entries it took part in that still wait for their model, and
// the contributions it signed (what an entry must record of this site). One small JSON file in
// the replica folder, replaced whole (temporary file, fsync, rename).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { parseJsonFile } from '../shared/json-file.js';
import { writeFileDurably } from './durable-file.js';

export const ENDORSER_STATE_FILE = 'endorser.json';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** An update or statistics this site signed and sent: what a ledger entry must record of it. */
const ContributionSchema = Type.Object(
  { runId: Type.String({ minLength: 1, maxLength: 128 }), round: Type.Integer({ minimum: 0 }), updateHash: Hex64, numExamples: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type Contribution = Static<typeof ContributionSchema>;

const EndorserStateSchema = Type.Object(
  {
    /** Models whose bytes this site received and hashed, oldest first. */
    seenModels: Type.Array(Hex64),
    /** Ledger indexes this site took part in and will endorse once it has received their model. */
    waiting: Type.Array(Type.Integer({ minimum: 0 })),
    /** Updates and statistics this site signed and sent, oldest first (absent in files of older agents). */
    contributions: Type.Optional(Type.Array(ContributionSchema)),
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
  await writeFileDurably(path.join(dir, ENDORSER_STATE_FILE), JSON.stringify(state) + '\n');
}
