// REST schemas for a clinician's queries. Everything here is attacker-controlled: values are
// scalars, lists are bounded, and the study decides which of them matter. A cell's length is not
// bounded here but by the body limit, and checked per row when the model reads it, so one long
// cell (say, free-text notes) fails its own row, not the batch.

import { Type, type Static } from '@sinclair/typebox';
import { ConformalRecordSchema } from '../../../shared/conformal/federated-quantile.js';
import { MAX_INPUT_FEATURES } from '../../../shared/study.js';

/** Widest model input a query may carry: as wide as a study may be (whole transcriptome ≈ 50,000). */
export const MAX_INPUT_COLUMNS = MAX_INPUT_FEATURES;
export const MAX_BATCH_ROWS = 10_000;

// A type list, not a union: ajv then leaves each value as sent (a union would coerce 4 to "4").
const Cell = Type.Unsafe<string | number | boolean | null>({ type: ['string', 'number', 'boolean', 'null'] });
const ModelRef = {
  runId: Type.Optional(Type.String({ pattern: '^run-[0-9a-f]{8}$' })),
  modelHash: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
};
const Row = Type.Record(Type.String({ maxLength: 256 }), Cell, { maxProperties: MAX_INPUT_COLUMNS });

export const PredictBody = Type.Object({ ...ModelRef, features: Row }, { additionalProperties: false });
export type PredictBody = Static<typeof PredictBody>;

export const PredictBatchBody = Type.Object(
  { ...ModelRef, rows: Type.Array(Row, { minItems: 1, maxItems: MAX_BATCH_ROWS }) },
  { additionalProperties: false },
);
export type PredictBatchBody = Static<typeof PredictBatchBody>;

/** A table: the column names once, then each row as an array of cells in that order. */
export const PredictTableBody = Type.Object(
  {
    ...ModelRef,
    columns: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: MAX_INPUT_COLUMNS }),
    rows: Type.Array(Type.Array(Cell, { maxItems: MAX_INPUT_COLUMNS }), { minItems: 1, maxItems: MAX_BATCH_ROWS }),
  },
  { additionalProperties: false },
);
export type PredictTableBody = Static<typeof PredictTableBody>;

export const ModelInputsQuery = Type.Object(ModelRef, { additionalProperties: false });
export type ModelInputsQuery = Static<typeof ModelInputsQuery>;

// ---- responses ------------------------------------------------------------------------------

const Interval = Type.Object(
  { lower: Type.Number(), upper: Type.Number(), coverage: Type.Number() },
  { additionalProperties: false, description: 'calibrated prediction interval in the prediction\'s unit (federated split conformal)' },
);
const Prediction = Type.Union([Type.Number(), Type.String()]);
const ScoreFields = {
  prediction: Prediction,
  unit: Type.Optional(Type.String()),
  probabilities: Type.Optional(Type.Record(Type.String(), Type.Number())),
  interval: Type.Optional(Interval),
  /** Classification: the calibrated prediction set and its coverage. */
  set: Type.Optional(Type.Array(Type.String())),
  coverage: Type.Optional(Type.Number()),
};
export const ProvenanceFields = {
  runId: Type.String(),
  round: Type.Integer(),
  modelHash: Type.String(),
  ledgerIndex: Type.Integer(),
  entryHash: Type.String(),
  /** The conformal quantile recorded in that ledger entry. */
  conformal: Type.Optional(ConformalRecordSchema),
  /** This request's row in the prediction audit log. */
  audit: Type.Optional(Type.Object({ seq: Type.Integer(), at: Type.String(), inputHash: Type.String() }, { additionalProperties: false })),
};
export const PredictionResponse = Type.Object({ ...ScoreFields, ...ProvenanceFields }, { additionalProperties: false });

const RowAnswer = Type.Object(
  {
    index: Type.Integer(),
    id: Type.Optional(Type.String()),
    ...ScoreFields,
    prediction: Type.Optional(Prediction), // absent from a row that could not be scored
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export const BatchPredictionResponse = Type.Object({ ...ProvenanceFields, predictions: Type.Array(RowAnswer) }, { additionalProperties: false });
