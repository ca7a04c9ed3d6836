// FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"). Each site adds the
// proximal term μ/2·‖w − w_global‖² to its local loss, which keeps its weights near the global
// model when data differ between sites. The server side is FedAvg's example-weighted mean, so the
// strategy only carries μ for the round runner to put in the task sent to the sites.

import { WeightedMeanAggregator } from './fedavg.js';
import type { Strategy, StrategyOptions } from './types.js';

/** Default proximal coefficient μ: the middle of the range Li et al. report as useful (0.001–1). */
export const FEDPROX_DEFAULT_MU = 0.01;

export interface FedProxStrategy extends Strategy {
  readonly name: 'fedprox';
  /** μ of the proximal term the sites add to their local loss. */
  readonly proximalMu: number;
}

/** Throws RangeError when mu is not a finite number in [0, 100] (the API schema's bounds). */
export function fedProx(options: StrategyOptions = {}): FedProxStrategy {
  const mu = options.mu ?? FEDPROX_DEFAULT_MU;
  if (!Number.isFinite(mu) || mu < 0 || mu > 100) throw new RangeError(`fedprox: mu must be in [0, 100], got ${mu}`);
  return {
    name: 'fedprox',
    proximalMu: mu,
    beginRound: (ctx) => new WeightedMeanAggregator(ctx),
  };
}
