import type { SiteOutcome, Store } from '../../coordinator/store/store.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import { hashConfig } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../coordinator/run-config-schema.js';
import type { Study } from '../../shared/study.js';
import type { ConformalRecord } from '../../shared/conformal/federated-quantile.js';
import type { Weights } from '../../shared/tensors.js';
import { TINY_PREP, TINY_STUDY } from './tiny-study.js';

type Committed = { runId: string; modelHash: string; ledgerIndex: number };

/** Commits y = 2·x1 + 3·[g = b] + 1 for TINY_STUDY straight through the store, as round 1 of a new run. */
export function commitTinyModel(store: Store): Committed {
  return commitLinearModel(store, TINY_STUDY, TINY_PREP, [2, 3], [1]);
}

/** Commits a linear model (kernel row-major, inputs × outputs) for any study, as round 1 of a new run. */
/** `extra`: the entry's conformal quantile, its participants (as site outcomes, with their held-out figures) and metrics. */
export function commitLinearModel(
  store: Store,
  study: Study,
  prep: Preprocessing,
  kernel: number[],
  bias: number[],
  extra: { conformal?: ConformalRecord; sites?: SiteOutcome[]; metrics?: Record<string, number> } = {},
): Committed {
  const { conformal, sites = [], metrics = { sites: 1 } } = extra;
  const participants = sites.map((s) => ({ siteId: s.siteId, numExamples: s.numExamples!, updateHash: 'ab'.repeat(32), signature: 'cd'.repeat(64) }));
  const config: RunConfig = { ...RUN_DEFAULTS, study };
  const run = store.createRun(config, hashConfig(config));
  store.setPreprocessing(run.id, prep);
  const weights: Weights = [
    { name: 'dense0/kernel', shape: [kernel.length / bias.length, bias.length], data: new Float32Array(kernel) },
    { name: 'dense0/bias', shape: [bias.length], data: new Float32Array(bias) },
  ];
  const modelHash = hashWeights(weights);
  const entry = store.commitRound({
    runId: run.id, round: 1, startedAt: new Date().toISOString(), modelHash, weights, metrics, sites, state: { progress: '{}', strategy: null }, bestRound: 1,
    entry: { parentModelHash: null, participants, configHash: run.configHash, ...(conformal === undefined ? {} : { conformal }) },
  });
  return { runId: run.id, modelHash, ledgerIndex: entry.index };
}
