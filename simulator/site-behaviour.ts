// A virtual site's misbehaviour, put around its computations: a link that drops when the site is
// asked to train, an answer that comes late, an update made hostile. The agent around it is the
// real one, so the coordinator sees exactly what such a hospital would send.

import { FedrxError } from '../shared/errors.js';
import { Prng } from '../shared/prng.js';
import type { Weights } from '../shared/tensors.js';
import type { ComputeKind, ComputeResults, ComputeTasks, SiteCompute } from '../site-agent/compute-tasks.js';
import type { SiteBehaviour } from './pool-messages.js';

/** Turns the site's honestly trained weights into what a hostile site sends, from the global model it started at. */
export type UpdateAttack = (global: Weights, trained: Weights) => Promise<Weights>;

export interface BehaviourHooks {
  /** Cuts the site's connection (RunningAgent.dropConnection). */
  drop(): void;
  attack: UpdateAttack | null;
}

export function withBehaviour(inner: SiteCompute, b: SiteBehaviour, hooks: BehaviourHooks): SiteCompute {
  const draws = new Prng(`${b.seed}/dropout`);
  const train = async (input: ComputeTasks['train']): Promise<ComputeResults['train']> => {
    if (b.dropout > 0 && draws.next() < b.dropout) {
      hooks.drop();
      throw new FedrxError('E_DISCONNECTED', 'simulated dropout: the link went down while training');
    }
    const result = await inner.run('train', input);
    if (b.straggleMs > 0) await new Promise((r) => setTimeout(r, b.straggleMs));
    return hooks.attack === null ? result : { ...result, weights: await hooks.attack(input.global, result.weights) };
  };
  return {
    backend: () => inner.backend(),
    close: () => inner.close(),
    run<K extends ComputeKind>(kind: K, input: ComputeTasks[K]): Promise<ComputeResults[K]> {
      if (kind === 'train') return train(input as ComputeTasks['train']) as Promise<ComputeResults[K]>;
      return inner.run(kind, input);
    },
  };
}
