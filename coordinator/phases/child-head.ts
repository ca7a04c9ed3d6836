// A regional agent's update carries its regional coordinator's signed head (docs/scale.md,
// "Commitment to the child chain"), which the round's ledger entry commits to in `children`.
// Attacker-controlled: its shape passed the update header's schema; here, its signature and length.

import { headSigned, type SignedHead } from '../../shared/ledger-head.js';

/** Why an update's child head is refused (E_CHILD_HEAD), or null when there is none or it is sound. */
export function childHeadRefusal(head: SignedHead | undefined): { code: 'E_CHILD_HEAD'; reason: string } | null {
  if (head === undefined) return null;
  if (head.length === 0) return { code: 'E_CHILD_HEAD', reason: 'the child head names an empty chain: no regional round is committed in it' };
  if (!headSigned(head)) return { code: 'E_CHILD_HEAD', reason: `the child head's signature does not verify under its coordinator key ${head.coordinatorKey.slice(0, 12)}` };
  return null;
}
