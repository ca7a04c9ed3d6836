// The updates of a pool's hostile sites: each trains honestly, then turns its change from the
// global model into an attack (shared/byzantine). A colluding attack ("a little is enough") needs
// the honest changes of its fellow attackers: they all live in this thread (site-pool.ts), and
// meet here, per global model, before any of them answers.

import { attackWeights, isAttack } from '../shared/byzantine/attacks.js';
import { deltaOf } from '../shared/byzantine/update-delta.js';
import { FedrxError } from '../shared/errors.js';
import { hashWeights } from '../shared/model-hash.js';
import { deriveSeed } from '../shared/prng.js';
import type { Weights } from '../shared/tensors.js';
import type { SiteBehaviour } from './pool-messages.js';
import type { UpdateAttack } from './site-behaviour.js';

/** How long colluders wait for each other: one that dropped out must not hold the others forever. */
const MEET_WITHIN_MS = 10_000;

export interface HostileUpdates {
  attackFor(b: SiteBehaviour): UpdateAttack | null;
}

/** `colluders`: the hostile sites of this pool; `sites`: every site of the simulation (n of the attack's z). */
export function hostileUpdates(colluders: number, sites: number): HostileUpdates {
  const meetings = new Map<string, Meeting>();
  let round = 0;
  return {
    attackFor(b) {
      if (b.attack === null) return null;
      const kind = b.attack;
      if (!isAttack(kind)) throw new FedrxError('E_BAD_REQUEST', `unknown attack ${kind}: sign-flip, scale, noise or little-is-enough`);
      return async (global: Weights, trained: Weights) => {
        const model = hashWeights(global);
        if (kind !== 'little-is-enough') return attackWeights(kind, global, trained, { seed: deriveSeed(b.seed, model) });
        let m = meetings.get(model);
        if (m === undefined) {
          m = new Meeting(colluders);
          meetings.set(model, m);
          // Only the latest rounds' meetings are kept.
          if (++round > 4) meetings.delete(meetings.keys().next().value!);
        }
        const seen = await m.join(deltaOf(global, trained));
        return attackWeights(kind, global, trained, { sites, hostile: colluders, seen });
      };
    },
  };
}

/** Colluders' honest deltas for one global model: each waits for all of them, or the deadline. */
class Meeting {
  private readonly deltas: Float32Array[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly closed: Promise<void>;

  constructor(private readonly expected: number) {
    this.closed = new Promise((resolve) => {
      this.waiting.push(resolve);
      setTimeout(resolve, MEET_WITHIN_MS).unref();
    });
  }

  async join(delta: Float32Array): Promise<readonly Float32Array[]> {
    this.deltas.push(delta);
    if (this.deltas.length >= this.expected) for (const w of this.waiting) w();
    await this.closed;
    return this.deltas;
  }
}
