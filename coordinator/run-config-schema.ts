// What a data scientist chooses when launching a run, as the coordinator stores it (and hashes it
// into every ledger entry of the run). Only the coordinator reads it: what a site needs of it
// travels in each task (shared/run-config.ts TaskConfig).

import { Type, type Static } from '@sinclair/typebox';
import { CompressionSchema } from '../shared/compression/settings.js';
import { DpConfigSchema } from '../shared/privacy/dp-settings.js';
import { TrainingSettingsSchema } from '../shared/run-config.js';
import { SecureRequestSchema } from '../shared/secagg/params.js';
import { SimulationSectionSchema } from '../shared/simulation.js';
import { StudySchema } from '../shared/study.js';
import { DEFAULT_STRATEGY, StrategyNameSchema, StrategyOptionsSchema } from './strategies/registry.js';

/** A relay run: its rounds are steps its parent posts (coordinator/rounds/relay-run.ts, docs/scale.md). */
export const RelaySettingsSchema = Type.Object(
  {
    /** The parent's run this one answers for (recorded, hashed into the run's entries). */
    parentRunId: Type.String({ minLength: 1, maxLength: 128 }),
    /** The run completes once no step has arrived for this long. */
    idleSec: Type.Integer({ minimum: 10, maximum: 86400 }),
  },
  { additionalProperties: false },
);
export type RelaySettings = Static<typeof RelaySettingsSchema>;
export const DEFAULT_RELAY_IDLE_SEC = 3600;

export const RunConfigSchema = Type.Object(
  {
    study: StudySchema,
    strategy: StrategyNameSchema,
    /** The options given for the strategy, flat (registry.ts); defaults are not stored. */
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
    /** Coverage 1 − α of the served prediction intervals and sets; absent: 0.9 (stored only when given). */
    coverage: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    /** Client-level DP-FedAvg (shared/privacy/), with δ fixed at run start; absent: no DP. */
    dp: Type.Optional(DpConfigSchema),
    /** Secure aggregation: the coordinator only ever holds the sum of the sites' masked updates. */
    secureAggregation: Type.Optional(SecureRequestSchema),
    /** Sites send their change from the global model as float16 or top-k (shared/compression/); absent: float32 weights. */
    compression: Type.Optional(CompressionSchema),
    /** A run of `fedrx simulate`: copied into every ledger entry of the run. */
    simulation: Type.Optional(SimulationSectionSchema),
    /** Absent: the run runs its own rounds. */
    relay: Type.Optional(RelaySettingsSchema),
  },
  { additionalProperties: false },
);
export type RunConfig = Static<typeof RunConfigSchema>;

/** Fields of POST /v1/runs that may be left out, with their defaults. */
export const RUN_DEFAULTS = {
  strategy: DEFAULT_STRATEGY,
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
