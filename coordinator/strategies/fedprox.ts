// FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"). Each site adds the
// proximal term μ/2·‖w − w_global‖² to its local loss, which keeps its weights near the global
// model when data differ between sites. The server side is FedAvg's example-weighted mean, so the
// strategy only carries μ for the sites' tasks.

import { Type } from '@sinclair/typebox';
import type { IterativeStrategyDescriptor } from './descriptor.js';
import { expectNoState } from './strategy-state.js';
import type { Strategy } from './types.js';
import { WeightedMeanAggregator } from './weighted-mean.js';

const options = Type.Object(
  {
    // The default is the middle of the range Li et al. report as useful (0.001–1).
    mu: Type.Optional(Type.Number({ minimum: 0, maximum: 100, default: 0.01, description: "weight μ of the proximal term in each site's local loss" })),
  },
  { additionalProperties: false },
);

export interface FedProxStrategy extends Strategy {
  readonly name: 'fedprox';
  /** μ of the proximal term the sites add to their local loss. */
  readonly proximalMu: number;
}

export const fedProx: IterativeStrategyDescriptor<'fedprox', typeof options.properties> = {
  name: 'fedprox',
  kind: 'iterative',
  sumsSecurely: true,
  summary: "FedAvg's mean; each site adds μ/2·‖w − w_global‖² to its local loss (Li et al. 2020)",
  options,
  create({ mu }, saved): FedProxStrategy {
    expectNoState('fedprox', saved);
    return { name: 'fedprox', proximalMu: mu, beginRound: (ctx) => new WeightedMeanAggregator(ctx), snapshot: () => null };
  },
  siteOptions: ({ mu }) => ({ proximalMu: mu }),
};
