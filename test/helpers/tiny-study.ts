import type { Preprocessing } from '../../shared/feature-stats.js';
import type { Study } from '../../shared/study.js';

/** A two-feature linear regression study: small enough to write weights by hand. */
export const TINY_STUDY: Study = {
  name: 'tiny',
  task: 'regression',
  features: [
    { kind: 'numeric', name: 'x1', min: -100, max: 100 },
    { kind: 'categorical', name: 'g', levels: ['a', 'b'] },
  ],
  target: { name: 'y', transform: 'identity', min: -1000, max: 1000 },
  model: { type: 'linear' },
  holdout: { fraction: 0.2, seed: 1 },
  // The hand-written statistics of the round-runner tests describe 2 rows per site.
  minRows: 2,
};

/** Identity preprocessing for TINY_STUDY: inputs and target pass through unchanged. */
export const TINY_PREP: Preprocessing = { rows: 10, numeric: { x1: { mean: 0, sd: 1 } }, target: { mean: 0, sd: 1 } };
