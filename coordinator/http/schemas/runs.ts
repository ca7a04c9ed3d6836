// REST schemas for runs. Bodies are attacker-controlled: every field is bounded here, the
// strategies' options by the schemas their modules state (coordinator/strategies/registry.ts).

import { Type, type Static } from '@sinclair/typebox';
import { SecureRequestSchema } from '../../../shared/secagg/params.js';
import { SimulationSectionSchema } from '../../../shared/simulation.js';
import { FedrxError } from '../../../shared/errors.js';
import { MAX_BATCH_SIZE } from '../../../shared/run-config.js';
import { StudySchema } from '../../../shared/study.js';
import { STRATEGY_OPTION_NAMES, STRATEGY_OPTION_PROPERTIES, StrategyNameSchema } from '../../strategies/registry.js';

/** Every field of POST /v1/runs but the strategies' options, which sit beside them, flat. */
const RUN_FIELDS = {
  /** A study object, or the name of a study shipped in datasets/studies/. */
  study: Type.Optional(Type.Union([Type.String({ pattern: '^[a-z0-9-]{1,64}$' }), StudySchema])),
  strategy: Type.Optional(StrategyNameSchema),
  /**
   * L2 penalty, overriding the study's model.l2: a number, a grid, or 'auto'. Loosely typed here
   * so a negative value or an empty grid gets E_BAD_PENALTY from buildRunConfig, not a schema error.
   */
  l2: Type.Optional(Type.Union([Type.Number(), Type.Array(Type.Number(), { maxItems: 64 }), Type.Literal('auto')])),
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
  /** Coverage of prediction intervals, 0 < c < 1 (default 0.9); checked in run-config.ts for its own code, E_BAD_COVERAGE. */
  coverage: Type.Optional(Type.Number()),
  /**
   * DP-FedAvg: noise multiplier Z, clip C, δ. Loosely typed here so that 0, a negative value or
   * δ ≥ 1/n gets E_DP_SETTINGS from buildRunConfig, not a schema error.
   */
  dp: Type.Optional(Type.Object({ noiseMultiplier: Type.Number(), clip: Type.Number(), delta: Type.Optional(Type.Number()) }, { additionalProperties: false })),
  /** Secure aggregation (SecAgg+): true for the defaults, or its settings. */
  secureAggregation: Type.Optional(Type.Union([Type.Boolean(), SecureRequestSchema])),
  /**
   * Update compression: 'none' (float32), 'float16' or 'topk', with topkFraction (0 < f < 1, default
   * 0.01). Loosely typed here so an unknown codec or a fraction out of range gets E_COMPRESSION_SETTINGS.
   */
  compression: Type.Optional(Type.String({ maxLength: 32 })),
  topkFraction: Type.Optional(Type.Number()),
  /** Set by `fedrx simulate`: the run's virtual sites, recorded in every ledger entry of the run. */
  simulation: Type.Optional(SimulationSectionSchema),
  /** A relay run, made by a regional agent: it runs the steps its parent posts (POST /v1/runs/:id/relay/...). */
  relay: Type.Optional(
    Type.Object({ parentRunId: Type.String({ minLength: 1, maxLength: 128 }), idleSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 86400 })) }, { additionalProperties: false }),
  ),
};

const clash = STRATEGY_OPTION_NAMES.find((name) => Object.hasOwn(RUN_FIELDS, name));
if (clash !== undefined) throw new FedrxError('E_INTERNAL', `strategy option ${clash} has the name of a field of POST /v1/runs`);

export const CreateRunBody = Type.Object({ ...RUN_FIELDS, ...STRATEGY_OPTION_PROPERTIES }, { additionalProperties: false });
export type CreateRunBody = Static<typeof CreateRunBody>;

export const RunIdParams = Type.Object({ id: Type.String({ pattern: '^run-[0-9a-f]{8}$' }) }, { additionalProperties: false });
export type RunIdParams = Static<typeof RunIdParams>;
