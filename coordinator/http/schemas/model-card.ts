// GET /v1/models/:modelHash/card: what a model card shows, as data. Counts and figures only:
// no site's rows, and per-site figures are the sums each site already reported.

import { Type, type Static } from '@sinclair/typebox';
import { ConformalRecordSchema } from '../../../shared/conformal/federated-quantile.js';

export const ModelCardParams = Type.Object({ modelHash: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false });
export type ModelCardParams = Static<typeof ModelCardParams>;

const FeatureCard = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union([Type.Literal('numeric'), Type.Literal('categorical'), Type.Literal('genotype'), Type.Literal('binary')]),
    unit: Type.Optional(Type.String()),
    /** Valid range [min, max] of a numeric feature, when the study states one. */
    range: Type.Optional(Type.Tuple([Type.Number(), Type.Number()])),
    levels: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

const SiteFigures = Type.Object(
  {
    siteId: Type.String(),
    /** Held-out rows the site scored the model on, its mean loss (model space) and its headline metric. */
    evalExamples: Type.Optional(Type.Integer()),
    evalLoss: Type.Optional(Type.Number()),
    metric: Type.String(),
    evalMetric: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

export const ModelCardResponse = Type.Object(
  {
    modelHash: Type.String(),
    runId: Type.String(),
    round: Type.Integer(),
    ledgerIndex: Type.Integer(),
    entryHash: Type.String(),
    study: Type.Object(
      {
        name: Type.String(),
        target: Type.Object(
          { name: Type.String(), unit: Type.Optional(Type.String()), kind: Type.Union([Type.Literal('regression'), Type.Literal('classification')]) },
          { additionalProperties: false },
        ),
        features: Type.Array(FeatureCard),
      },
      { additionalProperties: false },
    ),
    /** The sites whose updates made the model, and how many training rows each (counts, never rows). */
    sites: Type.Array(Type.Object({ siteId: Type.String(), numExamples: Type.Integer() }, { additionalProperties: false })),
    metrics: Type.Object(
      {
        /** The model's ledger entry's figures: pooled held-out metrics, exact as if pooled. */
        overall: Type.Record(Type.String(), Type.Number()),
        perSite: Type.Array(SiteFigures),
        /** With a study groupBy: held-out figures per level (e.g. ancestry), small groups included and flagged. */
        perGroup: Type.Optional(
          Type.Object(
            {
              column: Type.String(),
              groups: Type.Array(
                Type.Object(
                  {
                    level: Type.String(),
                    n: Type.Integer(),
                    /** Fewer held-out rows than SMALL_GROUP_ROWS: its figures are noisy. */
                    small: Type.Boolean(),
                    metrics: Type.Record(Type.String(), Type.Number()),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    /** The conformal quantile recorded in the entry: absent for models committed before intervals. */
    interval: Type.Optional(ConformalRecordSchema),
  },
  { additionalProperties: false },
);
export type ModelCard = Static<typeof ModelCardResponse>;
