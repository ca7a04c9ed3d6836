// A study: which columns a site's CSV must have, how each becomes a model input, what the target
// is and which model learns it. Coordinator and agents read the same definition.

import { Type, type Static } from '@sinclair/typebox';
import { ModelSpecSchema } from './model-spec.js';

const Name = Type.String({ minLength: 1, maxLength: 128 });

export const NumericFeatureSchema = Type.Object(
  {
    kind: Type.Literal('numeric'),
    name: Name,
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    min: Type.Number(),
    max: Type.Number(),
    // Fixed standardisation; a later statistics phase can replace it with federated values.
    center: Type.Number(),
    scale: Type.Number({ exclusiveMinimum: 0 }),
    /** What a missing value becomes: 'drop' the row, or 'center' (impute the mean). */
    missing: Type.Optional(Type.Union([Type.Literal('drop'), Type.Literal('center')])),
  },
  { additionalProperties: false },
);

export const CategoricalFeatureSchema = Type.Object(
  {
    kind: Type.Literal('categorical'),
    name: Name,
    /** First level is the reference (dummy coding: it gets no input column). */
    levels: Type.Array(Type.String({ maxLength: 64 }), { minItems: 2, maxItems: 256 }),
    /** Level a missing value maps to; without it, rows with a missing value are dropped. */
    missingLevel: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const FeatureSchema = Type.Union([NumericFeatureSchema, CategoricalFeatureSchema]);

export const RegressionTargetSchema = Type.Object(
  {
    name: Name,
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    transform: Type.Union([Type.Literal('identity'), Type.Literal('sqrt'), Type.Literal('log')]),
    min: Type.Number(),
    max: Type.Number(),
    /** Standardisation of the transformed target, undone for predictions and metrics. */
    center: Type.Number(),
    scale: Type.Number({ exclusiveMinimum: 0 }),
  },
  { additionalProperties: false },
);

export const ClassificationTargetSchema = Type.Object(
  {
    name: Name,
    classes: Type.Array(Type.String({ maxLength: 64 }), { minItems: 2, maxItems: 256 }),
  },
  { additionalProperties: false },
);

export const StudySchema = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    task: Type.Union([Type.Literal('regression'), Type.Literal('classification')]),
    idColumn: Type.Optional(Name),
    features: Type.Array(FeatureSchema, { minItems: 1, maxItems: 1024 }),
    target: Type.Union([RegressionTargetSchema, ClassificationTargetSchema]),
    model: ModelSpecSchema,
    /** Share of each site's rows held out for federated evaluation, split by a seeded shuffle. */
    holdout: Type.Object(
      { fraction: Type.Number({ minimum: 0.05, maximum: 0.5 }), seed: Type.Integer() },
      { additionalProperties: false },
    ),
    minRows: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export type NumericFeature = Static<typeof NumericFeatureSchema>;
export type CategoricalFeature = Static<typeof CategoricalFeatureSchema>;
export type Feature = Static<typeof FeatureSchema>;
export type RegressionTarget = Static<typeof RegressionTargetSchema>;
export type ClassificationTarget = Static<typeof ClassificationTargetSchema>;
export type Study = Static<typeof StudySchema>;

export function isRegression(study: Study): study is Study & { target: RegressionTarget } {
  return study.task === 'regression';
}

/** Number of model inputs: one per numeric feature, levels − 1 per categorical feature. */
export function inputDim(study: Study): number {
  return study.features.reduce((n, f) => n + (f.kind === 'numeric' ? 1 : f.levels.length - 1), 0);
}

/** Model outputs: 1 for regression and binary classification, one per class otherwise. */
export function outputDim(study: Study): number {
  if (study.task === 'regression') return 1;
  const classes = (study.target as ClassificationTarget).classes.length;
  return classes === 2 ? 1 : classes;
}

/** Every column a site CSV must provide. */
export function requiredColumns(study: Study): string[] {
  return [...study.features.map((f) => f.name), study.target.name];
}
