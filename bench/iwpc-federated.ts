// The federated arm of the IWPC benchmark: one real coordinator and one real agent process per
// IWPC site on loopback, several runs in a row, each scored on the sites' own held-out patients.

import { join } from 'node:path';
import { startLocalFederation, type LocalFederation } from '../cli/local-federation.js';
import type { RunView } from '../cli/client/client.js';
import { IWPC_COL, writeIwpcSiteCsvs, type IwpcRecord } from '../datasets/iwpc.js';
import { inputColumns, type Study } from '../shared/study.js';

export interface FederatedConfig {
  label: string;
  study: Study;
  strategy: 'fedavg' | 'fedprox' | 'fedadam';
  rounds: number;
  localEpochs: number;
  lr: number;
  lrDecay: number;
  optimizer: 'sgd' | 'adam';
  batchSize: number;
  mu?: number;
  serverLr?: number;
  patience?: number;
  /** DP-FedAvg: noise multiplier, clip and δ (shared/privacy/). */
  dp?: { noiseMultiplier: number; clip: number; delta: number };
  /** Update compression (shared/compression/): the POST /v1/runs fields. */
  compression?: { compression: 'float16' | 'topk'; topkFraction?: number };
}

export interface FederatedResult {
  config: FederatedConfig;
  run: RunView;
  seconds: number;
  /** Dose per PharmGKB Subject ID of every test patient, from the model the run serves (its best round). */
  predictions: Map<string, number>;
  /** The calibrated interval served with each of those doses (absent when the model has no quantile). */
  intervals: Map<string, { lower: number; upper: number; coverage: number }>;
}

export async function startIwpcFederation(dir: string, records: readonly IwpcRecord[]): Promise<LocalFederation> {
  const sites = await writeIwpcSiteCsvs(records, join(dir, 'sites'));
  return startLocalFederation(dir, sites.map((s) => ({ siteId: s.siteId, file: s.file })), { connectTimeoutMs: 300_000 });
}

export async function runFederated(
  fed: LocalFederation,
  config: FederatedConfig,
  test: readonly IwpcRecord[],
  onRound: (line: string) => void = () => {},
): Promise<FederatedResult> {
  const started = performance.now();
  const run = await fed.clients['data-scientist'].startRun({
    study: config.study,
    strategy: config.strategy,
    rounds: config.rounds,
    minSites: 20,
    localEpochs: config.localEpochs,
    lr: config.lr,
    lrDecay: config.lrDecay,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    roundTimeoutSec: 300,
    waitForSitesSec: 120,
    ...(config.mu === undefined ? {} : { mu: config.mu }),
    ...(config.serverLr === undefined ? {} : { serverLr: config.serverLr }),
    ...(config.patience === undefined ? {} : { patience: config.patience }),
    ...(config.dp === undefined ? {} : { dp: config.dp }),
    ...config.compression,
  });
  const done = await fed.clients['data-scientist'].follow(run.id, (r) => {
    const val = r.metrics.valLoss === undefined ? '' : `, validation loss ${r.metrics.valLoss.toFixed(4)}${r.metrics.bestRound === r.round ? ' (best)' : ''}`;
    if (r.round > 0) onRound(`  ${config.label} round ${r.round}/${config.rounds}: ${r.metrics.sites ?? 0} sites, MAE ${r.metrics.mae?.toFixed(2) ?? '–'}, PW20 ${r.metrics.pw20?.toFixed(1) ?? '–'}%${val}`);
  }, 500);
  if (done.status !== 'completed') throw new Error(`${config.label}: run ${done.id} ${done.status}: ${done.error ?? ''}`);
  onRound(`  ${config.label}: ${done.stopReason ?? `ran all ${config.rounds} rounds`}; clinicians get round ${done.bestRound}`);
  // Clinicians' path: score the held-out patients through the coordinator's batch predictions.
  // Only the model's input columns are sent, as a clinic would: never the observed dose.
  const inputs = inputColumns(config.study);
  const rows = test.map((r) => Object.fromEntries(inputs.map((c) => [c, r[c] ?? ''])));
  const res = await fed.clients.clinician.predictBatch({ runId: done.id, rows });
  const predictions = new Map<string, number>();
  const intervals = new Map<string, { lower: number; upper: number; coverage: number }>();
  for (const p of res.predictions) {
    if (p.error !== undefined || typeof p.prediction !== 'number') throw new Error(`${config.label}: test patient ${p.index} not scored: ${p.error?.message}`);
    predictions.set(test[p.index]![IWPC_COL.subject]!, p.prediction);
    if (p.interval !== undefined) intervals.set(test[p.index]![IWPC_COL.subject]!, p.interval);
  }
  return { config, run: done, seconds: (performance.now() - started) / 1000, predictions, intervals };
}
