import type { Study } from '../../shared/study.js';

/** A two-feature linear regression study: small enough to write weights by hand. */
export const TINY_STUDY: Study = {
  name: 'tiny',
  task: 'regression',
  features: [
    { kind: 'numeric', name: 'x1', min: -100, max: 100, center: 0, scale: 1 },
    { kind: 'categorical', name: 'g', levels: ['a', 'b'] },
  ],
  target: { name: 'y', transform: 'identity', min: -1000, max: 1000, center: 0, scale: 1 },
  model: { type: 'linear' },
  holdout: { fraction: 0.2, seed: 1 },
};
