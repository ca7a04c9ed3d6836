// What a run asks of each site: how to train, and the task sent with every request. The run's own
// configuration, which only the coordinator reads, is coordinator/run-config-schema.ts.

import { Type, type Static } from '@sinclair/typebox';
import { CompressionSchema } from './compression/settings.js';
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

/** Most validation folds of an exact fit's penalty search (the wire bounds fold lists by it). */
export const MAX_FOLDS = 20;

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
    /** Send the change from the global model compressed (shared/compression/); absent: float32 weights. */
    compression: Type.Optional(CompressionSchema),
  },
  { additionalProperties: false },
);
export type TaskConfig = Static<typeof TaskConfigSchema>;
