// Answers a clinician's query with the latest committed model of a run (or a given model hash),
// naming the model hash and ledger entry the answer came from.

import { classProbabilities, mostProbable } from '../shared/class-probabilities.js';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import { forward } from '../shared/forward.js';
import { denseLayers } from '../shared/model-spec.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { decodeRegression, encodeQuery, type RawRecord } from '../shared/preprocess.js';
import { inputDim, isRegression, outputDim, type ClassificationTarget, type Study } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import type { Endorsements } from './endorsements.js';
import type { Store } from './store.js';

interface Score {
  prediction: number | string;
  unit?: string;
  probabilities?: Record<string, number>;
}

/** Which model answered: its hash and the ledger entry that committed it. */
interface Provenance {
  runId: string;
  round: number;
  modelHash: string;
  ledgerIndex: number;
  entryHash: string;
}

export type Prediction = Score & Provenance;

export type BatchPrediction = Provenance & {
  predictions: ({ index: number; id?: string } & (Score | { error: { code: string; message: string } }))[];
};

interface ScoringModel {
  study: Study;
  provenance: Provenance;
  score(features: RawRecord): Score;
}

interface LoadedModel {
  weights: Weights;
  study: Study;
  prep: Preprocessing;
}

export class Predictor {
  private readonly cache = new Map<string, LoadedModel>();

  constructor(
    private readonly store: Store,
    private readonly endorsements: Endorsements,
  ) {}

  predict(query: { runId?: string; modelHash?: string; features: RawRecord }): Prediction {
    const model = this.model(query.runId, query.modelHash);
    return { ...model.score(query.features), ...model.provenance };
  }

  /** One model for a whole list (a clinic's CSV): rows that cannot be scored say why; the rest are scored. */
  predictMany(query: { runId?: string; modelHash?: string; rows: RawRecord[] }): BatchPrediction {
    const model = this.model(query.runId, query.modelHash);
    const idColumn = model.study.idColumn;
    const predictions = query.rows.map((row, index) => {
      const id = idColumn === undefined || row[idColumn] === undefined || row[idColumn] === null ? {} : { id: String(row[idColumn]) };
      try {
        return { index, ...id, ...model.score(row) };
      } catch (e) {
        if (!isFedrxError(e)) throw e;
        return { index, ...id, error: { code: e.code, message: e.message } };
      }
    });
    return { ...model.provenance, predictions };
  }

  private model(runId: string | undefined, modelHash: string | undefined): ScoringModel {
    const target = this.resolve(runId, modelHash);
    const entry = this.store.ledger.byModelHash(target.modelHash);
    if (entry === null) throw new FedrxError('E_NO_MODEL', `model ${target.modelHash} is not on the ledger`);
    if (!this.endorsements.servable(entry)) {
      throw new FedrxError('E_NOT_ENDORSED', `model ${entry.modelHash} (ledger #${entry.index}) is not endorsed by its sites yet, and run ${entry.runId} serves endorsed models only`);
    }
    const { weights, study, prep } = this.load(target.modelHash);
    const layers = denseLayers(study.model, inputDim(study), outputDim(study));
    const provenance = { runId: entry.runId, round: entry.round, modelHash: entry.modelHash, ledgerIndex: entry.index, entryHash: entry.entryHash };
    const score = (features: RawRecord): Score => {
      const out = forward(layers, weights, encodeQuery(study, prep, features));
      if (isRegression(study)) {
        const value = decodeRegression(study.target, prep, out[0]!);
        return { prediction: value, ...(study.target.unit === undefined ? {} : { unit: study.target.unit }) };
      }
      const classes = (study.target as ClassificationTarget).classes;
      const probs = classProbabilities(out, classes.length);
      return { prediction: classes[mostProbable(probs)]!, probabilities: Object.fromEntries(classes.map((c, i) => [c, probs[i]!])) };
    };
    return { study, provenance, score };
  }

  private resolve(runId: string | undefined, modelHash: string | undefined): { modelHash: string } {
    if (modelHash !== undefined) return { modelHash };
    if (runId !== undefined && this.store.getRun(runId) === null) throw new FedrxError('E_NOT_FOUND', `no run ${runId}`);
    let newest: string | null = null;
    // The newest model clinicians may have: runs that serve endorsed models only skip entries below quorum.
    for (const entry of this.store.ledger.newestFirst(runId)) {
      newest ??= entry.modelHash;
      if (this.endorsements.servable(entry)) return { modelHash: entry.modelHash };
    }
    const which = runId === undefined ? 'no model' : `run ${runId} has no model that`;
    if (newest !== null) throw new FedrxError('E_NOT_ENDORSED', `${which} has been endorsed by its sites yet`);
    throw new FedrxError('E_NO_MODEL', runId === undefined ? 'no model has been committed yet' : `run ${runId} has no committed model yet`);
  }

  private load(modelHash: string): LoadedModel {
    const hit = this.cache.get(modelHash);
    if (hit !== undefined) return hit;
    const model = this.store.getModel(modelHash);
    if (model === null) throw new FedrxError('E_NO_MODEL', `no stored model ${modelHash}`);
    const run = this.store.getRun(model.runId);
    if (run === null || run.preprocessing === null) throw new FedrxError('E_NO_MODEL', `model ${modelHash} has no run preprocessing`);
    const loaded = { weights: model.weights, study: run.config.study, prep: run.preprocessing };
    if (this.cache.size >= 32) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(modelHash, loaded);
    return loaded;
  }
}
