// Multi-Krum (Blanchard et al. 2017): keep the m updates closest to their n − f − 2 nearest
// neighbours and average them; the others are excluded and named on the ledger. Tolerates f
// hostile sites when n > 2f + 2. Needs every update at once.

import { Type } from '@sinclair/typebox';
import type { IterativeStrategyDescriptor } from './descriptor.js';
import { MultiKrumAggregator } from './robust/multi-krum-rule.js';
import { expectNoState } from './strategy-state.js';

const options = Type.Object(
  {
    byzantine: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 1, description: 'f, the hostile sites to tolerate (each round needs more than 2f + 2 updates)' })),
    krumKeep: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, default: 0, description: 'm, the updates averaged (0: n − f)' })),
  },
  { additionalProperties: false },
);

export const multiKrum: IterativeStrategyDescriptor<'multi-krum', typeof options.properties> = {
  name: 'multi-krum',
  kind: 'iterative',
  sumsSecurely: false,
  summary: 'the m updates with the best Krum scores averaged, the rest excluded on the ledger (Blanchard et al. 2017); memory O(sites × model)',
  options,
  create({ byzantine, krumKeep }, saved) {
    expectNoState('multi-krum', saved);
    return { name: 'multi-krum', beginRound: (ctx) => new MultiKrumAggregator(ctx, byzantine, krumKeep), snapshot: () => null };
  },
  checkRun: ({ byzantine }, { minSites }) =>
    minSites > 2 * byzantine + 2 ? null : `multi-krum with f = ${byzantine} needs every round to have more than 2f + 2 = ${2 * byzantine + 2} updates: raise --min-sites above ${2 * byzantine + 2} or lower --byzantine`,
};
