// REST schemas for runs. Bodies are attacker-controlled: every field is bounded here.

import { Type, type Static } from '@sinclair/typebox';
import { MAX_BATCH_SIZE, MAX_FOLDS, StrategyNameSchema } from '../../../shared/run-config.js';
import { StudySchema } from '../../../shared/study.js';

export const CreateRunBody = Type.Object(
  {
    /** A study object, or the name of a study shipped in datasets/studies/. */
    study: Type.Optional(Type.Union([Type.String({ pattern: '^[a-z0-9-]{1,64}$' }), StudySchema])),
    strategy: Type.Optional(StrategyNameSchema),
    /** FedProx μ. */
    mu: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /**
     * L2 penalty, overriding the study's model.l2: a number, a grid, or 'auto'. Loosely typed here
     * so a negative value or an empty grid gets E_BAD_PENALTY from buildRunConfig, not a schema error.
     */
    l2: Type.Optional(Type.Union([Type.Number(), Type.Array(Type.Number(), { maxItems: 64 }), Type.Literal('auto')])),
    /** Exact fits: validation folds within each site's training rows. */
    folds: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_FOLDS })),
    /** Exact ridge: 'factors' or 'products' (conjugate gradient) instead of the choice by width. */
    exactAlgorithm: Type.Optional(Type.Union([Type.Literal('factors'), Type.Literal('products')])),
    /** FedAdam server learning rate. */
    serverLr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
    rounds: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    minSites: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    localEpochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    lr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
    lrDecay: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BATCH_SIZE })),
    optimizer: Type.Optional(Type.Union([Type.Literal('sgd'), Type.Literal('adam')])),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    roundTimeoutSec: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400 })),
    waitForSitesSec: Type.Optional(Type.Number({ minimum: 0, maximum: 86400 })),
    endorsementQuorum: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    serveEndorsedOnly: Type.Optional(Type.Boolean()),
    /** Rounds without a better validation loss before the run stops early; 0 never stops. */
    patience: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
  },
  { additionalProperties: false },
);
export type CreateRunBody = Static<typeof CreateRunBody>;

export const RunIdParams = Type.Object({ id: Type.String({ pattern: '^run-[0-9a-f]{8}$' }) }, { additionalProperties: false });
export type RunIdParams = Static<typeof RunIdParams>;
