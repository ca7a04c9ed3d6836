// A study: which columns a site's CSV must have, how each becomes a model input, what the target
// is and which model learns it. Coordinator and agents read the same definition; the numbers
// that standardise inputs come from the run's federated statistics (shared/feature-stats.ts)
// unless the study fixes them.

import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from './errors.js';
import { ModelSpecSchema } from './model-spec.js';

const Name = Type.String({ minLength: 1, maxLength: 128 });
const Level = Type.String({ maxLength: 64 });
/** CSV column holding the feature, when it differs from the feature's name. */
const Column = Type.Optional(Type.String({ minLength: 1, maxLength: 256 }));
/** Raw cell text → level, e.g. "Black or African American" → "Black". */
const Aliases = Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Level));

export const NumericFeatureSchema = Type.Object(
  {
    kind: Type.Literal('numeric'),
    name: Name,
    column: Column,
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    /** Valid range: a value outside it is refused, never clipped. Optional: without it any finite number is accepted. */
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    /** Coded cells → numbers, e.g. age bands "60 - 69" → 6 (decades). */
    map: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Number())),
    /** A missing value: 'drop' the row, or 'mean' (impute the federated mean). */
    missing: Type.Optional(Type.Union([Type.Literal('drop'), Type.Literal('mean')])),
    /** Fixed standardisation; when absent the run's federated mean and SD are used. */
    center: Type.Optional(Type.Number()),
    scale: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

export const CategoricalFeatureSchema = Type.Object(
  {
    kind: Type.Literal('categorical'),
    name: Name,
    column: Column,
    /** First level is the reference (dummy coding: it gets no input column). */
    levels: Type.Array(Level, { minItems: 2, maxItems: 256 }),
    aliases: Aliases,
    /** Level a missing value maps to; without it, rows with a missing value are dropped. */
    missingLevel: Type.Optional(Level),
    /** Level an unlisted value maps to; without it, such rows are dropped. */
    otherLevel: Type.Optional(Level),
  },
  { additionalProperties: false },
);

/**
 * Where a call is missing, a linked variant can stand in for it (e.g. VKORC1 -1639 from rs9934438,
 * as in the IWPC 2009 supplementary methods): rules are tried in order.
 */
export const ImputeRuleSchema = Type.Object(
  {
    column: Type.String({ minLength: 1, maxLength: 256 }),
    /** Call in `column` → level of this feature. */
    map: Type.Record(Type.String({ maxLength: 64 }), Level),
    /** Apply only when this column holds one of these values (linkage differs by ancestry). */
    onlyWhen: Type.Optional(
      Type.Object({ column: Type.String({ minLength: 1, maxLength: 256 }), values: Type.Array(Type.String({ maxLength: 256 }), { minItems: 1 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

/** A pharmacogene call: categorical, with an explicit level for missing and unrecognised calls. */
export const GenotypeFeatureSchema = Type.Object(
  {
    kind: Type.Literal('genotype'),
    name: Name,
    column: Column,
    gene: Type.String({ minLength: 1, maxLength: 32 }),
    /** The variant typed, e.g. "-1639G>A (rs9923231)"; absent for star-allele diplotypes. */
    variant: Type.Optional(Type.String({ maxLength: 64 })),
    encoding: Type.Union([Type.Literal('diplotype'), Type.Literal('genotype')]),
    levels: Type.Array(Level, { minItems: 2, maxItems: 256 }),
    aliases: Aliases,
    unknownLevel: Level,
    imputeFrom: Type.Optional(Type.Array(ImputeRuleSchema, { maxItems: 16 })),
  },
  { additionalProperties: false },
);

/** 1 when any of its columns holds a true value (e.g. any enzyme inducer), else 0. */
export const BinaryFeatureSchema = Type.Object(
  {
    kind: Type.Literal('binary'),
    name: Name,
    columns: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 32 })),
    trueValues: Type.Optional(Type.Array(Level, { minItems: 1 })),
    falseValues: Type.Optional(Type.Array(Level, { minItems: 1 })),
    /** When every column is empty: 'false' (absent means not taken) or 'drop' the row. */
    missing: Type.Optional(Type.Union([Type.Literal('false'), Type.Literal('drop')])),
  },
  { additionalProperties: false },
);

export const FeatureSchema = Type.Union([NumericFeatureSchema, CategoricalFeatureSchema, GenotypeFeatureSchema, BinaryFeatureSchema]);

/** A regular expression over CSV column names, e.g. "^expr_" (checked to compile by load-study). */
const Match = Type.String({ minLength: 1, maxLength: 256 });

/**
 * Feature groups: one entry stands for every CSV column its pattern matches (e.g. 20,000 genes).
 * A run expands them at round 0 (shared/expand-study.ts): each matched column becomes a feature
 * named after the column, with the group's settings.
 */
export const NumericGroupSchema = Type.Object(
  {
    kind: Type.Literal('numeric'),
    match: Match,
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    missing: Type.Optional(Type.Union([Type.Literal('drop'), Type.Literal('mean')])),
  },
  { additionalProperties: false },
);

export const BinaryGroupSchema = Type.Object(
  {
    kind: Type.Literal('binary'),
    match: Match,
    trueValues: Type.Optional(Type.Array(Level, { minItems: 1 })),
    falseValues: Type.Optional(Type.Array(Level, { minItems: 1 })),
    missing: Type.Optional(Type.Union([Type.Literal('false'), Type.Literal('drop')])),
  },
  { additionalProperties: false },
);

export const CategoricalGroupSchema = Type.Object(
  {
    kind: Type.Literal('categorical'),
    match: Match,
    levels: Type.Array(Level, { minItems: 2, maxItems: 256 }),
    aliases: Aliases,
    missingLevel: Type.Optional(Level),
    otherLevel: Type.Optional(Level),
  },
  { additionalProperties: false },
);

export const FeatureGroupSchema = Type.Union([NumericGroupSchema, BinaryGroupSchema, CategoricalGroupSchema]);

/** Most model inputs a run may expand a study to (whole-transcriptome width is ~20,000–60,000). */
export const MAX_INPUT_FEATURES = 100_000;
/** Most feature entries a study file may list by name, and groups by pattern: studies stay small. */
export const MAX_STUDY_FEATURES = 1024;
export const MAX_FEATURE_GROUPS = 64;

export const RegressionTargetSchema = Type.Object(
  {
    name: Name,
    column: Column,
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    transform: Type.Union([Type.Literal('identity'), Type.Literal('sqrt'), Type.Literal('log')]),
    min: Type.Number(),
    max: Type.Number(),
    /** Fixed standardisation of the transformed target; else the federated mean and SD. */
    center: Type.Optional(Type.Number()),
    scale: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

export const ClassificationTargetSchema = Type.Object(
  {
    name: Name,
    column: Column,
    classes: Type.Array(Level, { minItems: 2, maxItems: 256 }),
    aliases: Aliases,
  },
  { additionalProperties: false },
);

export const METRIC_NAMES = ['mae', 'pw20', 'r2', 'rmse', 'accuracy', 'auc'] as const;

export const StudySchema = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    task: Type.Union([Type.Literal('regression'), Type.Literal('classification')]),
    /** Column that identifies a row in batch predictions (never sent anywhere by sites). */
    idColumn: Type.Optional(Name),
    /** Features by name; may be empty when groups supply the inputs. */
    features: Type.Array(FeatureSchema, { maxItems: MAX_STUDY_FEATURES }),
    /** Features by pattern, expanded after the named ones (written in `features` with a `match`, they are moved here). */
    groups: Type.Optional(Type.Array(FeatureGroupSchema, { minItems: 1, maxItems: MAX_FEATURE_GROUPS })),
    target: Type.Union([RegressionTargetSchema, ClassificationTargetSchema]),
    model: ModelSpecSchema,
    /** Metrics reported each round; the first is the headline. Default: mae, pw20, r2 or accuracy. */
    metrics: Type.Optional(Type.Array(Type.Union(METRIC_NAMES.map((m) => Type.Literal(m))), { minItems: 1 })),
    /** Share of each site's rows held out for evaluation, split by a seeded shuffle. */
    holdout: Type.Object(
      { fraction: Type.Number({ minimum: 0.05, maximum: 0.5 }), seed: Type.Integer() },
      { additionalProperties: false },
    ),
    /**
     * Share of each site's training part (after the held-out part) kept aside to choose an iterative
     * run's best round and stop it early; seeded from the holdout seed. Absent: every training row is
     * trained on, and a run keeps its last round.
     */
    validation: Type.Optional(Type.Object({ fraction: Type.Number({ minimum: 0.05, maximum: 0.5 }) }, { additionalProperties: false })),
    /**
     * Without a validation part (which then calibrates, costing no training row): the seeded share of
     * each site's training part whose scores calibrate prediction intervals (default 0.1).
     */
    calibration: Type.Optional(Type.Object({ fraction: Type.Number({ minimum: 0.05, maximum: 0.5 }) }, { additionalProperties: false })),
    /**
     * A categorical or genotype feature (by name) whose levels the held-out figures are also
     * reported by, e.g. ancestry: each site sends counts and sums per level, never a row.
     */
    groupBy: Type.Optional(Name),
    /** Fewest training rows a site needs to report statistics or train (small groups stay unexposed). */
    minRows: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export type NumericFeature = Static<typeof NumericFeatureSchema>;
export type CategoricalFeature = Static<typeof CategoricalFeatureSchema>;
export type GenotypeFeature = Static<typeof GenotypeFeatureSchema>;
export type BinaryFeature = Static<typeof BinaryFeatureSchema>;
export type Feature = Static<typeof FeatureSchema>;
export type NumericGroup = Static<typeof NumericGroupSchema>;
export type BinaryGroup = Static<typeof BinaryGroupSchema>;
export type CategoricalGroup = Static<typeof CategoricalGroupSchema>;
export type FeatureGroup = Static<typeof FeatureGroupSchema>;
export type LevelFeature = CategoricalFeature | GenotypeFeature;
export type RegressionTarget = Static<typeof RegressionTargetSchema>;
export type ClassificationTarget = Static<typeof ClassificationTargetSchema>;
export type Study = Static<typeof StudySchema>;
export type MetricName = (typeof METRIC_NAMES)[number];

export const DEFAULT_MIN_ROWS = 10;

export function isRegression(study: Study): study is Study & { target: RegressionTarget } {
  return study.task === 'regression';
}

export function isLevelFeature(f: Feature): f is LevelFeature {
  return f.kind === 'categorical' || f.kind === 'genotype';
}

/** Model inputs a feature takes: 1 for numeric and binary, levels − 1 for the others. */
export function featureWidth(f: Feature): number {
  return isLevelFeature(f) ? f.levels.length - 1 : 1;
}

export function inputDim(study: Study): number {
  assertExpanded(study);
  return study.features.reduce((n, f) => n + featureWidth(f), 0);
}

/** A study whose groups are not expanded has no fixed width: using it as one is a bug, said loudly. */
export function assertExpanded(study: Study): void {
  if (study.groups !== undefined && study.groups.length > 0) {
    throw new FedrxError('E_INTERNAL', `study ${study.name} has feature groups: expand it with the run's input list first (shared/expand-study.ts)`);
  }
}

/** Model outputs: 1 for regression and binary classification, one per class otherwise. */
export function outputDim(study: Study): number {
  if (study.task === 'regression') return 1;
  const classes = (study.target as ClassificationTarget).classes.length;
  return classes === 2 ? 1 : classes;
}

/** The CSV columns a feature reads. */
export function featureColumns(f: Feature): string[] {
  if (f.kind === 'binary') return f.columns ?? [f.name];
  if (f.kind === 'genotype' && f.imputeFrom !== undefined) {
    const linked = f.imputeFrom.flatMap((r) => [r.column, ...(r.onlyWhen === undefined ? [] : [r.onlyWhen.column])]);
    return [...new Set([f.column ?? f.name, ...linked])];
  }
  return [f.column ?? f.name];
}

export const targetColumn = (study: Study): string => study.target.column ?? study.target.name;

/** Every column a site CSV must provide (the target last). */
export function requiredColumns(study: Study): string[] {
  assertExpanded(study);
  return [...new Set([...study.features.flatMap(featureColumns), targetColumn(study)])];
}

/** Columns a clinician's query must provide: the inputs, not the target. */
export function inputColumns(study: Study): string[] {
  assertExpanded(study);
  return [...new Set(study.features.flatMap(featureColumns))];
}

export function studyMetrics(study: Study): MetricName[] {
  return study.metrics ?? (isRegression(study) ? ['mae', 'pw20', 'r2'] : ['accuracy']);
}

/** The feature a study reports held-out figures by, and its position among the features; null without one. */
export function groupingFeature(study: Study): { index: number; name: string; levels: readonly string[] } | null {
  if (study.groupBy === undefined) return null;
  const index = study.features.findIndex((f) => f.name === study.groupBy);
  const f = study.features[index];
  if (f === undefined || (f.kind !== 'categorical' && f.kind !== 'genotype')) {
    throw new FedrxError('E_BAD_REQUEST', `groupBy "${study.groupBy}" of study ${study.name} is not a categorical or genotype feature of the study`);
  }
  return { index, name: f.name, levels: f.levels };
}
