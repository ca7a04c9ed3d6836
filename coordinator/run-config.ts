// Turns a POST /v1/runs body into a complete, checked run configuration.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FedrxError } from '../shared/errors.js';
import { checkStudy, loadStudyFile } from '../shared/load-study.js';
import { RUN_DEFAULTS, RunConfigSchema, type RunConfig } from '../shared/run-config.js';
import type { Study } from '../shared/study.js';
import { expectSchema } from '../shared/wire.js';
import type { CreateRunBody } from './schemas/runs.js';

export const STUDIES_DIR = fileURLToPath(new URL('../datasets/studies/', import.meta.url));
export const DEFAULT_STUDY = 'synthetic-warfarin';

export function resolveStudy(study: CreateRunBody['study']): Study {
  if (typeof study === 'object') return checkStudy(study);
  // The schema limits names to [a-z0-9-], so a name cannot leave the studies folder.
  const name = study ?? DEFAULT_STUDY;
  const file = ['.json', '.yaml', '.yml'].map((ext) => `${STUDIES_DIR}${name}${ext}`).find((f) => existsSync(f));
  if (file === undefined) throw new FedrxError('E_BAD_REQUEST', `no study named ${name} in datasets/studies (NAME.json, .yaml or .yml)`);
  return loadStudyFile(file);
}

export function buildRunConfig(body: CreateRunBody): RunConfig {
  const d = RUN_DEFAULTS;
  const config: RunConfig = {
    study: resolveStudy(body.study),
    strategy: body.strategy ?? d.strategy,
    strategyOptions: {
      ...(body.mu === undefined ? {} : { mu: body.mu }),
      ...(body.serverLr === undefined ? {} : { serverLr: body.serverLr }),
    },
    rounds: body.rounds ?? d.rounds,
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
  };
  return expectSchema(RunConfigSchema, config, 'E_BAD_REQUEST', 'run configuration');
}
