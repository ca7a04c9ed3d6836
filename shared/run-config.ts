// What a data scientist chooses when launching a run, and the part of it each site needs.

import { Type, type Static } from '@sinclair/typebox';
import { InputListSchema } from './expand-study.js';
import { StudySchema } from './study.js';

/** Largest batch a run may ask for; a site with fewer training rows then trains on all of them at once. */
export const MAX_BATCH_SIZE = 65536;

export const TrainingSettingsSchema = Type.Object(
  {
    localEpochs: Type.Integer({ minimum: 1, maximum: 1000 }),
    lr: Type.Number({ exclusiveMinimum: 0, maximum: 10 }),
    /** Round r trains with lr · lrDecay^(r−1): shrinks client drift as the model settles. */
    lrDecay: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    batchSize: Type.Integer({ minimum: 1, maximum: MAX_BATCH_SIZE }),
    optimizer: Type.Union([Type.Literal('sgd'), Type.Literal('adam')]),
    seed: Type.Integer(),
  },
  { additionalProperties: false },
);
export type TrainingSettings = Static<typeof TrainingSettingsSchema>;

export const STRATEGY_NAMES = ['fedavg', 'fedprox', 'fedadam'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];
export const StrategyNameSchema = Type.Union(STRATEGY_NAMES.map((n) => Type.Literal(n)));

/** Options of the server strategies; each reads the ones it knows (coordinator/strategies/). */
export const StrategyOptionsSchema = Type.Object(
  {
    /** FedProx proximal coefficient μ (sent to the sites, used in their local loss). */
    mu: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** FedAdam server learning rate η. */
    serverLr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
    /** FedAdam first- and second-moment decays. */
    beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
    beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
    /** FedAdam adaptivity τ (added to √v). */
    tau: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type StrategyOptions = Static<typeof StrategyOptionsSchema>;

export const RunConfigSchema = Type.Object(
  {
    study: StudySchema,
    strategy: StrategyNameSchema,
    strategyOptions: StrategyOptionsSchema,
    rounds: Type.Integer({ minimum: 1, maximum: 10000 }),
    minSites: Type.Integer({ minimum: 1, maximum: 10000 }),
    training: TrainingSettingsSchema,
    /** How long a round waits for updates before closing with what it has (if ≥ minSites). */
    roundTimeoutSec: Type.Number({ exclusiveMinimum: 0, maximum: 86400 }),
    /** How long the run waits at start (and between rounds) for minSites sites to be connected. */
    waitForSitesSec: Type.Number({ minimum: 0, maximum: 86400 }),
    /** An entry is endorsed once ceil(quorum × participants) of its participants have signed it. */
    endorsementQuorum: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    /** Clinicians get only models whose ledger entry is endorsed. */
    serveEndorsedOnly: Type.Boolean(),
    /**
     * With a validation part: stop once this many rounds in a row have not beaten the best
     * validation loss (0: never stop early). Absent in runs made before it existed.
     */
    patience: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
  },
  { additionalProperties: false },
);
export type RunConfig = Static<typeof RunConfigSchema>;

/** Fields of POST /v1/runs that may be left out, with their defaults. */
export const RUN_DEFAULTS = {
  strategy: 'fedavg',
  strategyOptions: {},
  rounds: 5,
  minSites: 2,
  roundTimeoutSec: 120,
  waitForSitesSec: 60,
  endorsementQuorum: 0.5,
  serveEndorsedOnly: false,
  // FedAdam's server momentum can lift the validation loss for a dozen rounds before it falls further (IWPC).
  patience: 20,
  training: { localEpochs: 2, lr: 0.01, lrDecay: 1, batchSize: 32, optimizer: 'adam', seed: 1 },
} as const satisfies Omit<RunConfig, 'study'>;

const Standardiser = Type.Object({ mean: Type.Number(), sd: Type.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false });

/** The run's preprocessing, fixed from federated statistics (shared/feature-stats.ts). */
export const PreprocessingSchema = Type.Object(
  {
    rows: Type.Integer({ minimum: 0 }),
    numeric: Type.Record(Type.String(), Standardiser),
    target: Type.Optional(Standardiser),
    inputs: Type.Optional(InputListSchema),
  },
  { additionalProperties: false },
);

/** What travels to a site with each task: the study, its preprocessing and how to train. */
export const TaskConfigSchema = Type.Object(
  {
    study: StudySchema,
    preprocessing: PreprocessingSchema,
    training: TrainingSettingsSchema,
    /** FedProx: weight of the proximal term in the local loss; 0 for plain local training. */
    proximalMu: Type.Number({ minimum: 0, maximum: 100 }),
  },
  { additionalProperties: false },
);
export type TaskConfig = Static<typeof TaskConfigSchema>;
