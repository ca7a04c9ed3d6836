// Centered clipping (Karimireddy, He and Jaggi 2021): each update's difference from the global
// model is scaled to at most τ in L2 norm, and the clipped differences are averaged, unweighted.
// Streaming: memory O(model). The sites clipped and by how much are named on the ledger.

import { Type } from '@sinclair/typebox';
import type { IterativeStrategyDescriptor } from './descriptor.js';
import { CenteredClippingAggregator } from './robust/centered-clipping-rule.js';
import { expectNoState } from './strategy-state.js';

const options = Type.Object(
  {
    clipTau: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e6, default: 1, description: 'τ, the largest L2 norm of an update\'s difference from the global model' })),
  },
  { additionalProperties: false },
);

export const centeredClipping: IterativeStrategyDescriptor<'centered-clipping', typeof options.properties> = {
  name: 'centered-clipping',
  kind: 'iterative',
  sumsSecurely: false,
  summary: "the mean of the updates' differences from the global model, each clipped to L2 norm τ (Karimireddy et al. 2021); streaming, memory O(model)",
  options,
  create({ clipTau }, saved) {
    expectNoState('centered-clipping', saved);
    return { name: 'centered-clipping', beginRound: (ctx) => new CenteredClippingAggregator(ctx, clipTau), snapshot: () => null };
  },
};
