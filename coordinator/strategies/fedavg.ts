// FedAvg (McMahan et al. 2017): the next global model is the mean of the sites' weights, weighted
// by their example counts (weighted-mean.ts). No options and no state across rounds.

import { Type } from '@sinclair/typebox';
import type { IterativeStrategyDescriptor } from './descriptor.js';
import { expectNoState } from './strategy-state.js';
import { WeightedMeanAggregator } from './weighted-mean.js';

const options = Type.Object({}, { additionalProperties: false });

export const fedAvg: IterativeStrategyDescriptor<'fedavg', typeof options.properties> = {
  name: 'fedavg',
  kind: 'iterative',
  sumsSecurely: true,
  summary: "the sites' weights averaged, weighted by their example counts (McMahan et al. 2017)",
  options,
  create(_options, saved) {
    expectNoState('fedavg', saved);
    return { name: 'fedavg', beginRound: (ctx) => new WeightedMeanAggregator(ctx), snapshot: () => null };
  },
};
