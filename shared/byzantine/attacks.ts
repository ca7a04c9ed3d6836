/**
 * Hostile sites for simulations and benchmarks: what a Byzantine site sends instead of its honest
 * update. Pure; never used by a real agent.
 *
 *   import { attackUpdate, attackWeights, type Attack } from 'shared/byzantine/attacks.js';
 *   const bad = attackWeights('sign-flip', global, honestWeights, {});                 // Weights to send
 *   const d = attackUpdate('noise', deltaOf(global, honest), { seed: deriveSeed(run, round, siteId) });
 *
 * An update is taken as its delta, local − global (update-delta.ts), and the hostile delta is
 * returned; the input is never changed.
 * - `sign-flip`: −delta.
 * - `scale`: SCALE_FACTOR (10) × delta.
 * - `noise`: each value drawn from N(0, σ²) with σ the delta's root mean square, so the update has
 *   about the honest one's norm and no signal (seeded: `ctx.seed`, shared/prng.ts).
 * - `little-is-enough` (Baruch et al. 2019): μ − z·σ over `ctx.seen`, the honest deltas the
 *   colluders see, with z from n = `ctx.sites` and f = `ctx.hostile` (little-is-enough.ts). In
 *   the paper's non-omniscient setting, which bench:robust uses, the colluders see their own
 *   honest deltas only; pass every honest delta for an omniscient attacker. All colluders send the
 *   same vector; `delta` only fixes its length.
 * Missing or impossible context is E_BAD_REQUEST.
 */

import { FedrxError } from '../errors.js';
import { Prng, type Seed } from '../prng.js';
import type { Weights } from '../tensors.js';
import { littleIsEnough, littleIsEnoughZ } from './little-is-enough.js';
import { deltaOf, plusDelta } from './update-delta.js';

export const ATTACKS = ['sign-flip', 'scale', 'noise', 'little-is-enough'] as const;
export type Attack = (typeof ATTACKS)[number];

/** The `scale` attack's multiplier. */
export const SCALE_FACTOR = 10;

export interface AttackContext {
  /** noise: seed of the Gaussian stream (one per hostile site and round). */
  seed?: Seed;
  /** little-is-enough: n, the updates in the round, hostile ones included. */
  sites?: number;
  /** little-is-enough: f, the colluding hostile sites. */
  hostile?: number;
  /** little-is-enough: the honest deltas the colluders see. */
  seen?: readonly Float32Array[];
}

export const isAttack = (v: unknown): v is Attack => typeof v === 'string' && (ATTACKS as readonly string[]).includes(v);

/** The hostile delta that replaces the honest `delta`. */
export function attackUpdate(kind: Attack, delta: Float32Array, ctx: AttackContext = {}): Float32Array {
  switch (kind) {
    case 'sign-flip':
      return delta.map((x) => -x);
    case 'scale':
      return delta.map((x) => SCALE_FACTOR * x);
    case 'noise':
      return gaussianLike(delta, need(ctx.seed, 'noise', 'seed'));
    case 'little-is-enough': {
      const z = littleIsEnoughZ(need(ctx.sites, kind, 'sites'), need(ctx.hostile, kind, 'hostile'));
      const out = littleIsEnough(need(ctx.seen, kind, 'seen'), z);
      if (out.length !== delta.length) throw new FedrxError('E_BAD_REQUEST', `the seen updates hold ${out.length} values, the update ${delta.length}`);
      return out;
    }
    default:
      throw new FedrxError('E_BAD_REQUEST', `unknown attack ${String(kind)}: one of ${ATTACKS.join(', ')}`);
  }
}

/** The weights a hostile site sends: global + the hostile delta of its honest `local` weights. */
export function attackWeights(kind: Attack, global: Weights, local: Weights, ctx: AttackContext = {}): Weights {
  return plusDelta(global, attackUpdate(kind, deltaOf(global, local), ctx));
}

function gaussianLike(delta: Float32Array, seed: Seed): Float32Array {
  let ss = 0;
  for (const x of delta) ss += x * x;
  const sd = delta.length === 0 ? 0 : Math.sqrt(ss / delta.length);
  const rng = new Prng(seed);
  return Float32Array.from(delta, () => rng.normal(0, sd));
}

function need<T>(value: T | undefined, kind: Attack, field: keyof AttackContext): T {
  if (value === undefined) throw new FedrxError('E_BAD_REQUEST', `the ${kind} attack needs ctx.${field}`);
  return value;
}
