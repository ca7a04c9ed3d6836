// Coordinate-wise β-trimmed mean (Yin et al. 2018): at each weight, the ⌊β·n⌋ lowest and highest
// values are dropped and the rest averaged, unweighted. β < 0.5. Needs every update at once.

import { Type } from '@sinclair/typebox';
import type { IterativeStrategyDescriptor } from './descriptor.js';
import { TrimmedMeanAggregator } from './robust/coordinate-rules.js';
import { expectNoState } from './strategy-state.js';

const options = Type.Object(
  {
    trimBeta: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 0.5, default: 0.1, description: 'share β of the values dropped at each end of every weight (0 < β < 0.5)' })),
  },
  { additionalProperties: false },
);

export const trimmedMean: IterativeStrategyDescriptor<'trimmed-mean', typeof options.properties> = {
  name: 'trimmed-mean',
  kind: 'iterative',
  sumsSecurely: false,
  summary: "each weight the mean of the sites' values without the ⌊β·n⌋ lowest and highest (Yin et al. 2018); memory O(sites × model)",
  options,
  create({ trimBeta }, saved) {
    expectNoState('trimmed-mean', saved);
    return { name: 'trimmed-mean', beginRound: (ctx) => new TrimmedMeanAggregator(ctx, trimBeta), snapshot: () => null };
  },
};
