// Answers a clinician's query with the model a run keeps (its best round by validation, else its
// latest; or a given model hash), naming the model hash and ledger entry the answer came from.

import { runStudy } from '../shared/expand-study.js';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import { forward } from '../shared/forward.js';
import { denseLayers } from '../shared/model-spec.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { decodeRegression, encodeQuery, type RawRecord } from '../shared/preprocess.js';
import { inputDim, isRegression, outputDim, type ClassificationTarget, type Study } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import type { LedgerEntry } from '../shared/ledger.js';
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
      const probs = classes.length === 2 ? [1 - sigmoid(out[0]!), sigmoid(out[0]!)] : softmax(out);
      const best = probs.indexOf(Math.max(...probs));
      return { prediction: classes[best]!, probabilities: Object.fromEntries(classes.map((c, i) => [c, probs[i]!])) };
    };
    return { study, provenance, score };
  }

  private resolve(runId: string | undefined, modelHash: string | undefined): { modelHash: string } {
    if (modelHash !== undefined) return { modelHash };
    if (runId !== undefined && this.store.getRun(runId) === null) throw new FedrxError('E_NOT_FOUND', `no run ${runId}`);
    let newest: string | null = null;
    // The model the newest entry keeps (its run's best round so far) if clinicians may have it; runs
    // that serve endorsed models only fall back, entry by entry, to what earlier entries kept.
    for (const entry of this.store.ledger.newestFirst(runId)) {
      const kept = this.keptBy(entry);
      newest ??= kept.modelHash;
      if (this.endorsements.servable(kept)) return { modelHash: kept.modelHash };
    }
    const which = runId === undefined ? 'no model' : `run ${runId} has no model that`;
    if (newest !== null) throw new FedrxError('E_NOT_ENDORSED', `${which} has been endorsed by its sites yet`);
    throw new FedrxError('E_NO_MODEL', runId === undefined ? 'no model has been committed yet' : `run ${runId} has no committed model yet`);
  }

  /** The entry of the round an entry names as its run's best so far (metrics.bestRound), else itself. */
  private keptBy(entry: LedgerEntry): LedgerEntry {
    const best = entry.metrics.bestRound;
    if (best === undefined || best === entry.round) return entry;
    const index = this.store.roundLedgerIndex(entry.runId, best);
    return (index === null ? null : this.store.ledger.get(index)) ?? entry;
  }

  private load(modelHash: string): LoadedModel {
    const hit = this.cache.get(modelHash);
    if (hit !== undefined) return hit;
    const model = this.store.getModel(modelHash);
    if (model === null) throw new FedrxError('E_NO_MODEL', `no stored model ${modelHash}`);
    const run = this.store.getRun(model.runId);
    if (run === null || run.preprocessing === null) throw new FedrxError('E_NO_MODEL', `model ${modelHash} has no run preprocessing`);
    // The run's study with its feature groups expanded: the same input vector the sites trained on.
    const loaded = { weights: model.weights, study: runStudy(run.config.study, run.preprocessing), prep: run.preprocessing };
    if (this.cache.size >= 32) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(modelHash, loaded);
    return loaded;
  }
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function softmax(z: Float64Array): number[] {
  const m = Math.max(...z);
  const e = [...z].map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
