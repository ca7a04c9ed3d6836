// Answers a clinician's query with the model a run keeps (its best round by validation, else its
// latest; or a given model hash), naming the model hash and ledger entry the answer came from.

import { nameSome, runStudy } from '../shared/expand-study.js';
import { FedrxError, isFedrxError, type CodedMessage } from '../shared/errors.js';
import { forward } from '../shared/forward.js';
import { denseLayers } from '../shared/model-spec.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { cellsExtractor, type ExtractedRow } from '../shared/extract.js';
import { EncodeProblem, encodeQuery, inputEncoder, queryError, type RawRecord, type RawValue } from '../shared/preprocess.js';
import { inputColumns, inputDim, isRegression, outputDim, type ClassificationTarget, type Study } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import type { LedgerEntry } from '../shared/ledger.js';
import type { ConformalRecord } from '../shared/conformal/federated-quantile.js';
import { calibratedScore } from './calibrated-score.js';
import type { Endorsements } from './trust/endorsements.js';
import type { Store } from './store/store.js';

export interface Score {
  prediction: number | string;
  unit?: string;
  probabilities?: Record<string, number>;
  /** Regression: the calibrated prediction interval, in the prediction's unit. */
  interval?: { lower: number; upper: number; coverage: number };
  /** Classification: the calibrated prediction set (every class whose 1 − p̂ is within the quantile) and its coverage. */
  set?: string[];
  coverage?: number;
}

/** Which model answered: its hash and the ledger entry that committed it (with the interval's quantile). */
interface Provenance {
  runId: string;
  round: number;
  modelHash: string;
  ledgerIndex: number;
  entryHash: string;
  /** The conformal quantile the intervals or sets come from, as recorded in that entry; absent on models committed before it. */
  conformal?: ConformalRecord;
}

export type Prediction = Score & Provenance;

type RowAnswer = { index: number; id?: string } & (Score | { error: CodedMessage });

export type BatchPrediction = Provenance & { predictions: RowAnswer[] };

/** What a client needs to ask a model: the columns it reads (send those, no others) and what it answers. */
export type ModelInputs = Provenance & {
  columns: string[];
  idColumn?: string;
  task: Study['task'];
  classes?: string[];
  unit?: string;
};

/** Longest cell the model reads; longer is refused for its row (a longer cell elsewhere is never read). */
export const MAX_CELL_CHARS = 256;

type Encoder = (row: ExtractedRow, out: Float32Array) => void;

interface ScoringModel {
  study: Study;
  provenance: Provenance;
  columns: string[];
  encode: Encoder;
  /** A record keyed by column name. */
  score(features: RawRecord): Score;
  /** Inputs already encoded. */
  scoreInputs(x: Float32Array): Score;
}

interface LoadedModel {
  weights: Weights;
  study: Study;
  prep: Preprocessing;
  columns: string[];
  encode: Encoder;
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
      return answerRow(index, id, () => model.score(row));
    });
    return { ...model.provenance, predictions };
  }

  /**
   * A table (column names once, rows as arrays): every input column must be listed, since a
   * missing column is not a missing cell and no row is scored with a guess for it. A row of the
   * wrong length fails alone. Rows carry no ids: the client keeps them.
   */
  predictTable(query: { runId?: string; modelHash?: string; columns: string[]; rows: RawValue[][] }): BatchPrediction {
    const model = this.model(query.runId, query.modelHash);
    const at = new Map(query.columns.map((c, i) => [c, i]));
    if (at.size !== query.columns.length) {
      const twice = query.columns.find((c, i) => at.get(c) !== i);
      throw new FedrxError('E_BAD_REQUEST', `the column list names "${twice}" twice`);
    }
    const missing = model.columns.filter((c) => !at.has(c));
    if (missing.length > 0) {
      throw new FedrxError('E_MISSING_FEATURE', `the column list lacks ${missing.length} input column(s) of the model: ${nameSome(missing)}`, {
        missing: missing.slice(0, 100),
      });
    }
    const picks = model.columns.map((c) => at.get(c)!);
    const width = query.columns.length;
    // Cells by position: at 50,000 columns, looking each one up by name would cost more than scoring.
    const extract = cellsExtractor(model.study, (c) => at.get(c)!, false);
    const dim = inputDim(model.study);
    const predictions = query.rows.map((row, index) =>
      answerRow(index, {}, () => {
        if (row.length !== width) throw new FedrxError('E_MALFORMED_ROW', `row ${index + 1} has ${row.length} cells for ${width} columns`);
        for (let j = 0; j < picks.length; j++) refuseLongCell(model.columns[j]!, row[picks[j]!]);
        const values = extract(row);
        if (values instanceof EncodeProblem) throw queryError(values);
        const x = new Float32Array(dim);
        model.encode(values, x);
        return model.scoreInputs(x);
      }),
    );
    return { ...model.provenance, predictions };
  }

  /** The columns the model that would answer reads, and what it answers with. */
  inputs(query: { runId?: string; modelHash?: string }): ModelInputs {
    const { study, provenance, columns } = this.model(query.runId, query.modelHash);
    const unit = isRegression(study) ? study.target.unit : undefined;
    return {
      ...provenance,
      columns,
      ...(study.idColumn === undefined ? {} : { idColumn: study.idColumn }),
      task: study.task,
      ...(isRegression(study) ? {} : { classes: (study.target as ClassificationTarget).classes }),
      ...(unit === undefined ? {} : { unit }),
    };
  }

  private model(runId: string | undefined, modelHash: string | undefined): ScoringModel {
    const target = this.resolve(runId, modelHash);
    const entry = this.store.ledger.byModelHash(target.modelHash);
    if (entry === null) throw new FedrxError('E_NO_MODEL', `model ${target.modelHash} is not on the ledger`);
    if (!this.endorsements.servable(entry)) {
      throw new FedrxError('E_NOT_ENDORSED', `model ${entry.modelHash} (ledger #${entry.index}) is not endorsed by its sites yet, and run ${entry.runId} serves endorsed models only`);
    }
    const { weights, study, prep, columns, encode } = this.load(target.modelHash);
    const layers = denseLayers(study.model, inputDim(study), outputDim(study));
    const provenance = {
      runId: entry.runId,
      round: entry.round,
      modelHash: entry.modelHash,
      ledgerIndex: entry.index,
      entryHash: entry.entryHash,
      ...(entry.conformal === undefined ? {} : { conformal: entry.conformal }),
    };
    const scoreInputs = (x: Float32Array): Score => calibratedScore(study, prep, entry.conformal, forward(layers, weights, x));
    const score = (features: RawRecord): Score => {
      for (const c of columns) refuseLongCell(c, features[c]);
      return scoreInputs(encodeQuery(study, prep, features));
    };
    return { study, provenance, columns, encode, score, scoreInputs };
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
    const study = runStudy(run.config.study, run.preprocessing);
    const loaded = { weights: model.weights, study, prep: run.preprocessing, columns: inputColumns(study), encode: inputEncoder(study, run.preprocessing) };
    if (this.cache.size >= 32) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(modelHash, loaded);
    return loaded;
  }
}

/** A cell the model reads, longer than any valid value: refused for its row before it is parsed. */
function refuseLongCell(column: string, v: RawValue): void {
  if (typeof v === 'string' && v.length > MAX_CELL_CHARS) {
    throw new FedrxError('E_BAD_FEATURE', `column "${column}": longer than ${MAX_CELL_CHARS} characters`, { feature: column, problem: 'too-long' });
  }
}

/** One row's answer: its score, or the coded reason it could not be scored. */
function answerRow(index: number, id: { id?: string }, score: () => Score): RowAnswer {
  try {
    return { index, ...id, ...score() };
  } catch (e) {
    if (!isFedrxError(e)) throw e;
    return { index, ...id, error: { code: e.code, message: e.message } };
  }
}
