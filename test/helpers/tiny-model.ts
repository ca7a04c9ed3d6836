import type { Store } from '../../coordinator/store.js';
import { hashConfig } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../shared/run-config.js';
import type { Weights } from '../../shared/tensors.js';
import { TINY_PREP, TINY_STUDY } from './tiny-study.js';

/** Commits y = 2·x1 + 3·[g = b] + 1 for TINY_STUDY straight through the store, as round 1 of a new run. */
export function commitTinyModel(store: Store): { runId: string; modelHash: string; ledgerIndex: number } {
  const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };
  const run = store.createRun(config, hashConfig(config));
  store.setPreprocessing(run.id, TINY_PREP);
  const weights: Weights = [
    { name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([2, 3]) },
    { name: 'dense0/bias', shape: [1], data: new Float32Array([1]) },
  ];
  const modelHash = hashWeights(weights);
  const entry = store.commitRound({
    runId: run.id, round: 1, startedAt: new Date().toISOString(), modelHash, weights, metrics: { sites: 1 }, sites: [],
    entry: { parentModelHash: null, participants: [], configHash: run.configHash },
  });
  return { runId: run.id, modelHash, ledgerIndex: entry.index };
}
