// Turns a POST /v1/runs body into a complete, checked run configuration.

import { simulationMark } from '../../shared/simulation.js';
import { checkCoverage } from '../../shared/conformal/coverage.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FedrxError } from '../../shared/errors.js';
import { checkStudy, loadStudyFile } from '../../shared/load-study.js';
import { isSearch, penaltyGrid } from '../../shared/exact/penalty.js';
import { groupingFeature, isRegression, outputDim, type Study } from '../../shared/study.js';
import { expectSchema } from '../../shared/wire.js';
import { resolveDpConfig, type DpConfig } from '../../shared/privacy/dp-settings.js';
import { describeCompression, resolveCompression } from '../../shared/compression/settings.js';
import { DEFAULT_RELAY_IDLE_SEC, RUN_DEFAULTS, RunConfigSchema, type RunConfig } from '../run-config-schema.js';
import { strategyOptionsFor, strategyRunProblem, strategySumsSecurely, type StrategyName } from '../strategies/registry.js';
import type { CreateRunBody } from './schemas/runs.js';

export const STUDIES_DIR = fileURLToPath(new URL('../../datasets/studies/', import.meta.url));
export const DEFAULT_STUDY = 'synthetic-warfarin';

export function resolveStudy(study: CreateRunBody['study']): Study {
  if (typeof study === 'object') return checkStudy(study);
  // The schema limits names to [a-z0-9-], so a name cannot leave the studies folder.
  const name = study ?? DEFAULT_STUDY;
  const file = ['.json', '.yaml', '.yml'].map((ext) => `${STUDIES_DIR}${name}${ext}`).find((f) => existsSync(f));
  if (file === undefined) throw new FedrxError('E_BAD_REQUEST', `no study named ${name} in datasets/studies (NAME.json, .yaml or .yml)`);
  return loadStudyFile(file);
}

/**
 * The study with `l2` (from --l2) in its model spec, and the strategy: a grid or 'auto' with no
 * strategy named means an exact fit; an iterative strategy cannot search penalties.
 */
export function penaltyAndStrategy(study: Study, l2: CreateRunBody['l2'], strategy: StrategyName | undefined): { study: Study; strategy: StrategyName } {
  if (Array.isArray(l2) && l2.length === 0) throw new FedrxError('E_BAD_PENALTY', 'the penalty grid is empty');
  if (l2 !== undefined) penaltyGrid(l2 === 'auto' ? undefined : l2); // checks every value
  const withL2 = l2 === undefined ? study : { ...study, model: { ...study.model, l2 } };
  const search = isSearch(withL2.model.l2);
  const chosen = strategy ?? (search ? 'exact' : RUN_DEFAULTS.strategy);
  if (search && chosen !== 'exact') {
    throw new FedrxError('E_BAD_PENALTY', `strategy ${chosen} trains one model per round and cannot choose among penalties: give one l2 value, or use --strategy exact`);
  }
  if (chosen === 'exact') {
    if (withL2.model.type !== 'linear') throw new FedrxError('E_BAD_REQUEST', `an exact fit needs a linear model, the study has ${withL2.model.type}`);
    if (!isRegression(withL2) && outputDim(withL2) !== 1) throw new FedrxError('E_BAD_REQUEST', 'exact fits are for regression and binary classification studies, not multi-class ones');
  }
  return { study: withL2, strategy: chosen };
}

/** The run's secure-aggregation request, refused for strategies that need each update apart. */
function secureAggregation(asked: CreateRunBody['secureAggregation'], strategy: StrategyName): Pick<RunConfig, 'secureAggregation'> {
  if (asked === undefined || asked === false) return {};
  if (!strategySumsSecurely(strategy)) {
    throw new FedrxError('E_SECAGG_PARAMS', `strategy ${strategy} needs each site's contribution apart and cannot run over a secure sum; use fedavg, fedprox or fedadam`);
  }
  return { secureAggregation: asked === true ? {} : asked };
}

/** The run's update compression (E_COMPRESSION_SETTINGS), refused where it cannot work. */
function compression(body: CreateRunBody, strategy: StrategyName): Pick<RunConfig, 'compression'> {
  const c = resolveCompression(body);
  if (c === undefined) return {};
  const refuse = (why: string): never => {
    throw new FedrxError('E_COMPRESSION_SETTINGS', `${describeCompression(c)} updates cannot run ${why}`);
  };
  if (strategy === 'exact') refuse('with an exact fit: its sites send float64 statistics, not weight updates');
  if (body.secureAggregation !== undefined && body.secureAggregation !== false) {
    refuse('over secure aggregation: it sums dense, quantised uint32 vectors under masks, which cannot be sparsified or halved');
  }
  if (body.dp !== undefined) {
    refuse(
      "with differential privacy: DP bounds each site's dense change by its clip, which a float16 rounding can exceed, and error feedback would carry unclipped change into later rounds",
    );
  }
  return { compression: c };
}

/** `registeredSites`: the n that δ must stay below 1/n of (needed only with `dp`). */
export function buildRunConfig(body: CreateRunBody, registeredSites = 0): RunConfig {
  const d = RUN_DEFAULTS;
  const { study, strategy } = penaltyAndStrategy(resolveStudy(body.study), body.l2, body.strategy);
  groupingFeature(study); // a groupBy that names no categorical or genotype feature: E_BAD_REQUEST
  const config: RunConfig = {
    study,
    strategy,
    // The options given, flat beside the other fields; another strategy's option is refused.
    strategyOptions: strategyOptionsFor(strategy, body),
    // An exact fit is one solve: round 1.
    rounds: strategy === 'exact' ? 1 : (body.rounds ?? d.rounds),
    minSites: body.minSites ?? d.minSites,
    training: {
      localEpochs: body.localEpochs ?? d.training.localEpochs,
      lr: body.lr ?? d.training.lr,
      lrDecay: body.lrDecay ?? d.training.lrDecay,
      batchSize: body.batchSize ?? d.training.batchSize,
      optimizer: body.optimizer ?? d.training.optimizer,
      seed: body.seed ?? d.training.seed,
    },
    roundTimeoutSec: body.roundTimeoutSec ?? d.roundTimeoutSec,
    waitForSitesSec: body.waitForSitesSec ?? d.waitForSitesSec,
    endorsementQuorum: body.endorsementQuorum ?? d.endorsementQuorum,
    serveEndorsedOnly: body.serveEndorsedOnly ?? d.serveEndorsedOnly,
    patience: body.patience ?? d.patience,
    ...(body.coverage === undefined ? {} : { coverage: checkCoverage(body.coverage) }),
    ...(body.dp === undefined ? {} : { dp: privateSettings(body.dp, strategy, registeredSites) }),
    ...secureAggregation(body.secureAggregation, strategy),
    ...compression(body, strategy),
    ...simulationMark(body),
    ...relaySettings(body.relay, strategy, study),
  };
  const problem = strategyRunProblem(strategy, config.strategyOptions, config);
  if (problem !== null) throw new FedrxError('E_BAD_REQUEST', problem);
  return expectSchema(RunConfigSchema, config, 'E_BAD_REQUEST', 'run configuration');
}

/**
 * A relay run's settings (E_RELAY_SETTINGS): its answer must be its sites' aggregate of the
 * parent's model, which an exact fit or FedAdam's server step is not; and its statistics must merge
 * with other regions', which feature groups' per-site input lists do not.
 */
function relaySettings(relay: CreateRunBody['relay'], strategy: StrategyName, study: Study): Pick<RunConfig, 'relay'> {
  if (relay === undefined) return {};
  if (strategy === 'exact' || strategy === 'fedadam') {
    throw new FedrxError('E_RELAY_SETTINGS', `a relay run cannot use strategy ${strategy}: its answer must be its sites' aggregate of the parent's model (use fedavg, fedprox or a robust rule)`);
  }
  if ((study.groups ?? []).length > 0) {
    throw new FedrxError('E_RELAY_SETTINGS', `a relay run cannot take study ${study.name} with feature groups: merging statistics across regions would then need the input-list step, which relay runs do not have`);
  }
  return { relay: { parentRunId: relay.parentRunId, idleSec: relay.idleSec ?? DEFAULT_RELAY_IDLE_SEC } };
}

/** DP-FedAvg's settings checked (E_DP_SETTINGS) and δ fixed; only strategies that fold a summed contribution take it. */
function privateSettings(dp: NonNullable<CreateRunBody['dp']>, strategy: StrategyName, registeredSites: number): DpConfig {
  if (strategy === 'exact') throw new FedrxError('E_DP_SETTINGS', 'differential privacy is for iterative strategies (DP-FedAvg); an exact fit sends statistics it does not cover');
  // DP-FedAvg hands the strategy one noisy sum: a strategy that needs each update apart cannot take it.
  if (!strategySumsSecurely(strategy)) throw new FedrxError('E_DP_SETTINGS', `strategy ${strategy} needs each site's update apart and cannot aggregate a private sum; use fedavg, fedprox or fedadam`);
  return resolveDpConfig(dp, registeredSites);
}
