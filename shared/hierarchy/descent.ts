// From a national ledger entry down to one hospital's own regional entry (docs/scale.md, "Verifying
// down to a hospital's own entry"): the four steps an auditor, or the hospital itself, takes with
// the national chain, the region's chain and the hospital's replica. Pure: the chains are given,
// and whatever they hold (they may come from anyone), the answer is a list of steps, never a throw.

import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Type } from '@sinclair/typebox';
import { headSigned } from '../ledger-head.js';
import { LedgerEntrySchema, participantSigned, verifyChain, type LedgerEntry } from '../ledger.js';

export interface DescentInput {
  /** The national chain, from its genesis. */
  national: readonly LedgerEntry[];
  /** The index of the national entry to descend from: the model in use. */
  nationalIndex: number;
  /** The region's site id at the national level. */
  regionId: string;
  /** The region's chain, from its genesis (from the regional coordinator or any of its hospitals). */
  regional: readonly LedgerEntry[];
  /** The hospital's site id at the regional level. */
  hospitalId: string;
  /** The hospital's public key: its signature over its update is checked when given. */
  hospitalKey?: string;
  /** The hospital's replica of the regional chain: step 4 is taken when given. */
  hospitalReplica?: readonly LedgerEntry[];
}

export interface DescentStep {
  step: 1 | 2 | 3 | 4;
  ok: boolean;
  /** What was checked and found: indexes, site ids and short hashes, never more. */
  detail: string;
}

export interface Descent {
  /** Every step taken passed, and steps 1–3 were all taken (4 too when a replica was given). */
  ok: boolean;
  /** In order, up to and including the first that failed. */
  steps: DescentStep[];
}

const Chain = TypeCompiler.Compile(Type.Array(LedgerEntrySchema));
const short = (hash: string): string => `${hash.slice(0, 12)}…`;

/** Why `value` is not a verifying chain of entries, or null. */
function chainProblem(value: unknown, what: string): string | null {
  if (!Chain.Check(value)) {
    const first = Chain.Errors(value).First();
    return `the ${what} is not a list of ledger entries${first === undefined ? '' : ` (at ${first.path || '/'}: ${first.message})`}`;
  }
  const check = verifyChain(value);
  return check.ok ? null : `the ${what} does not verify: entry ${check.badIndex}: ${check.reason}`;
}

/** Takes the four steps in order; stops at the first that fails. */
export function verifyDescent(input: DescentInput): Descent {
  const steps: DescentStep[] = [];
  const fail = (step: DescentStep['step'], detail: string): Descent => ({ ok: false, steps: [...steps, { step, ok: false, detail }] });
  try {
    // 1. The national chain, its entry, the region's child head and the region as a participant.
    const nationalProblem = chainProblem(input.national, 'national chain');
    if (nationalProblem !== null) return fail(1, nationalProblem);
    const { national, nationalIndex: i, regionId } = input;
    if (!Number.isInteger(i) || i < 0 || i >= national.length) return fail(1, `the national chain has ${national.length} entries: there is no entry ${String(i)}`);
    const entry = national[i]!;
    const child = entry.children?.find((c) => c.siteId === regionId);
    if (child === undefined) return fail(1, `national entry ${i} has no children element for ${regionId}`);
    const region = entry.participants.find((p) => p.siteId === regionId);
    // verifyChain refuses such an entry already; kept so this step reads whole.
    if (region === undefined) return fail(1, `national entry ${i} commits a head for ${regionId}, which is not among its participants`);
    const head = child.head;
    steps.push({ step: 1, ok: true, detail: `the national chain verifies (${national.length} entries); entry ${i} (round ${entry.round}) has ${regionId} as a participant (update ${short(region.updateHash)}) and its head: ${head.length} entries, head ${short(head.headHash)}` });

    // 2. The region's chain reaches that head, signed by the key the head names.
    const regionalProblem = chainProblem(input.regional, `chain of ${regionId}`);
    if (regionalProblem !== null) return fail(2, regionalProblem);
    const regional = input.regional;
    if (head.length < 1 || regional.length < head.length) return fail(2, `the head names ${head.length} entries; the chain of ${regionId} has ${regional.length}`);
    const last = regional[head.length - 1]!;
    if (last.entryHash !== head.headHash) return fail(2, `entry ${head.length - 1} of the chain of ${regionId} has hash ${short(last.entryHash)}, the head names ${short(head.headHash)}`);
    if (last.coordinatorKey !== head.coordinatorKey) return fail(2, `entry ${head.length - 1} is signed by ${short(last.coordinatorKey)}, the head names ${short(head.coordinatorKey)}`);
    if (!headSigned(head)) return fail(2, `the head's signature does not verify under its coordinator key ${short(head.coordinatorKey)}`);
    steps.push({ step: 2, ok: true, detail: `the chain of ${regionId} verifies (${regional.length} entries); entry ${head.length - 1} is the head, signed by ${short(head.coordinatorKey)}` });

    // 3. The regional round whose aggregate the region sent up: from the national model, with the hospital in it.
    let r = -1;
    for (let k = head.length - 1; k >= 0 && r < 0; k--) if (regional[k]!.modelHash === region.updateHash) r = k;
    if (r < 0) return fail(3, `no entry of the chain of ${regionId} up to its head committed model ${short(region.updateHash)}, the update it sent`);
    const round = regional[r]!;
    if (round.parentModelHash !== entry.parentModelHash) {
      return fail(3, `regional entry ${r} trained from model ${round.parentModelHash === null ? 'none' : short(round.parentModelHash)}, national entry ${i} from ${entry.parentModelHash === null ? 'none' : short(entry.parentModelHash)}`);
    }
    const hospital = round.participants.find((p) => p.siteId === input.hospitalId);
    if (hospital === undefined) return fail(3, `regional entry ${r} does not list ${input.hospitalId} as a participant`);
    if (input.hospitalKey !== undefined && !participantSigned(round, hospital, input.hospitalKey)) {
      return fail(3, `${input.hospitalId}'s signature in regional entry ${r} does not verify under its key ${short(input.hospitalKey)}`);
    }
    const signedBy = input.hospitalKey === undefined ? 'its signature not checked: no key given' : 'signed with its key';
    steps.push({ step: 3, ok: true, detail: `regional entry ${r} (round ${round.round}) committed ${short(round.modelHash)} from the national model; ${input.hospitalId} is a participant, ${signedBy}` });

    // 4. The hospital's own replica holds the same entry.
    if (input.hospitalReplica === undefined) return { ok: true, steps };
    const replicaProblem = chainProblem(input.hospitalReplica, `replica of ${input.hospitalId}`);
    if (replicaProblem !== null) return fail(4, replicaProblem);
    const own = input.hospitalReplica[r];
    if (own === undefined) return fail(4, `the replica of ${input.hospitalId} has ${input.hospitalReplica.length} entries: not entry ${r}`);
    if (own.entryHash !== round.entryHash) return fail(4, `entry ${r} of the replica of ${input.hospitalId} has hash ${short(own.entryHash)}, the region's has ${short(round.entryHash)}`);
    steps.push({ step: 4, ok: true, detail: `the replica of ${input.hospitalId} holds entry ${r} with the same hash ${short(round.entryHash)}` });
    return { ok: true, steps };
  } catch (e) {
    // A shape the schema let through and a check still could not read: a failure like any other.
    return fail((steps.length + 1) as DescentStep['step'], `the input cannot be read: ${(e as Error).message}`);
  }
}
