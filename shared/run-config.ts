// What a data scientist chooses when launching a run, and the part of it each site needs.

import { Type, type Static } from '@sinclair/typebox';
import { StudySchema } from './study.js';

export const TrainingSettingsSchema = Type.Object(
  {
    localEpochs: Type.Integer({ minimum: 1, maximum: 1000 }),
    lr: Type.Number({ exclusiveMinimum: 0, maximum: 10 }),
    batchSize: Type.Integer({ minimum: 1, maximum: 65536 }),
    optimizer: Type.Union([Type.Literal('sgd'), Type.Literal('adam')]),
    seed: Type.Integer(),
  },
  { additionalProperties: false },
);
export type TrainingSettings = Static<typeof TrainingSettingsSchema>;

export const RunConfigSchema = Type.Object(
  {
    study: StudySchema,
    strategy: Type.Literal('fedavg'),
    rounds: Type.Integer({ minimum: 1, maximum: 10000 }),
    minSites: Type.Integer({ minimum: 1, maximum: 10000 }),
    training: TrainingSettingsSchema,
    /** How long a round waits for updates before closing with what it has (if ≥ minSites). */
    roundTimeoutSec: Type.Number({ exclusiveMinimum: 0, maximum: 86400 }),
    /** How long the run waits at start (and between rounds) for minSites sites to be connected. */
    waitForSitesSec: Type.Number({ minimum: 0, maximum: 86400 }),
  },
  { additionalProperties: false },
);
export type RunConfig = Static<typeof RunConfigSchema>;

/** Fields of POST /v1/runs that may be left out, with their defaults. */
export const RUN_DEFAULTS = {
  strategy: 'fedavg',
  rounds: 5,
  minSites: 2,
  roundTimeoutSec: 120,
  waitForSitesSec: 60,
  training: { localEpochs: 2, lr: 0.01, batchSize: 32, optimizer: 'adam', seed: 1 },
} as const satisfies Omit<RunConfig, 'study'>;

/** What travels to a site with each task: the study and how to train; nothing about other sites. */
export const TaskConfigSchema = Type.Object(
  { study: StudySchema, training: TrainingSettingsSchema },
  { additionalProperties: false },
);
export type TaskConfig = Static<typeof TaskConfigSchema>;
