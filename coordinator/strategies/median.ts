// Coordinate-wise median (Yin et al. 2018): each weight of the next model is the median of the
// sites' values, so fewer than half the sites cannot drag it anywhere. Unweighted; needs every
// update at once (robust/update-buffer.ts), so it cannot run over secure aggregation.

import { Type } from '@sinclair/typebox';
import type { IterativeStrategyDescriptor } from './descriptor.js';
import { MedianAggregator } from './robust/coordinate-rules.js';
import { expectNoState } from './strategy-state.js';

const options = Type.Object({}, { additionalProperties: false });

export const median: IterativeStrategyDescriptor<'median', typeof options.properties> = {
  name: 'median',
  kind: 'iterative',
  sumsSecurely: false,
  summary: "each weight the median of the sites' values, unweighted (Yin et al. 2018); memory O(sites × model), spilled to disk beyond FEDRX_ROBUST_BUFFER_MB",
  options,
  create(_options, saved) {
    expectNoState('median', saved);
    return { name: 'median', beginRound: (ctx) => new MedianAggregator(ctx), snapshot: () => null };
  },
};
