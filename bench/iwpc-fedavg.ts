// bench:iwpc's FedAvg configuration (its defaults: 40 rounds, 2 local Adam epochs of batches of 32,
// learning rate 0.05 decaying by 0.9 a round), for the benchmarks that run the federation in process.

import type { TrainingSettings } from '../shared/run-config.js';

export const IWPC_FEDAVG_ROUNDS = 40;

/** A site's settings in `round` (from 1), seed aside. */
export const iwpcFedAvgSettings = (round: number): Omit<TrainingSettings, 'seed'> => ({
  localEpochs: 2,
  lr: 0.05 * 0.9 ** (round - 1),
  lrDecay: 0.9,
  batchSize: 32,
  optimizer: 'adam',
});
