// The ledger's head (length and last entry hash) signed by the coordinator, kept where a rewrite of
// the ledger table does not reach: a file beside the coordinator's database and each site's
// replica.json. A copy of the table with its tail deleted no longer matches it.

import { Type, type Static } from '@sinclair/typebox';
import { headBody, sign, verify } from './signing.js';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const SignedHeadSchema = Type.Object(
  {
    length: Type.Integer({ minimum: 0 }),
    headHash: Hex64,
    recordedAt: Type.String({ minLength: 1, maxLength: 64 }),
    coordinatorKey: Hex64,
    signature: Type.String({ pattern: '^[0-9a-f]{128}$' }),
  },
  { additionalProperties: false },
);
export type SignedHead = Static<typeof SignedHeadSchema>;

export function signHead(head: { length: number; headHash: string }, key: { publicKey: string; secretKey: Uint8Array }, recordedAt = new Date().toISOString()): SignedHead {
  const body = { length: head.length, headHash: head.headHash, recordedAt };
  return { ...body, coordinatorKey: key.publicKey, signature: sign('head', headBody(body), key.secretKey) };
}

export const headSigned = (h: SignedHead): boolean => verify('head', headBody(h), h.signature, h.coordinatorKey);

/**
 * Why a chain does not match a head recorded earlier, or null. The chain may have grown since;
 * it may not be shorter, nor hold another entry where the head was. `where` names the record.
 */
export function headProblem(head: SignedHead, chain: { length: number; hashAt: (index: number) => string | null }, where: string): { index: number; reason: string } | null {
  if (!headSigned(head)) return { index: Math.max(0, head.length - 1), reason: `${where}: the head's signature does not verify under its coordinator key` };
  if (head.length === 0) return null;
  const said = `${where} (recorded ${head.recordedAt}) says the ledger had ${head.length} entries, head ${head.headHash.slice(0, 12)}`;
  if (chain.length < head.length) {
    return { index: chain.length, reason: `${said}; only ${chain.length} are here: entries ${chain.length}..${head.length - 1} are missing` };
  }
  if (chain.hashAt(head.length - 1) !== head.headHash) return { index: head.length - 1, reason: `${said}; entry ${head.length - 1} here has another hash` };
  return null;
}
