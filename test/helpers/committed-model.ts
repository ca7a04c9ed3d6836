import type { Store } from '../../coordinator/store.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import { hashConfig } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../shared/run-config.js';
import type { Study } from '../../shared/study.js';
import type { Weights } from '../../shared/tensors.js';

/** A run with one committed round of a linear model, written straight through the store. */
export function commitLinearModel(store: Store, study: Study, prep: Preprocessing, kernel: number[], bias: number[]): { runId: string; modelHash: string } {
  const config: RunConfig = { ...RUN_DEFAULTS, study };
  const run = store.createRun(config, hashConfig(config));
  store.setPreprocessing(run.id, prep);
  const weights: Weights = [
    { name: 'dense0/kernel', shape: [kernel.length / bias.length, bias.length], data: new Float32Array(kernel) },
    { name: 'dense0/bias', shape: [bias.length], data: new Float32Array(bias) },
  ];
  const modelHash = hashWeights(weights);
  store.commitRound({
    runId: run.id, round: 1, startedAt: new Date().toISOString(), modelHash, weights, metrics: {}, sites: [],
    entry: { parentModelHash: null, participants: [], configHash: run.configHash },
  });
  return { runId: run.id, modelHash };
}
