// CLI commands that talk to a running coordinator over its REST API.

import { existsSync, readFileSync } from 'node:fs';
import { FedrxError } from '../shared/errors.js';
import { CoordinatorClient, type RunView } from './client.js';
import { metricChart, roundLine } from './round-format.js';

const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FedrxError('E_BAD_REQUEST', `cannot read JSON from ${path}: ${(e as Error).message}`);
  }
}

export async function startRunCommand(o: Record<string, string | boolean | undefined>): Promise<number> {
  const client = new CoordinatorClient(String(o.coordinator));
  const studyArg = String(o.study);
  const study = existsSync(studyArg) ? readJson(studyArg) : studyArg;
  const body = Object.fromEntries(
    Object.entries({
      study,
      rounds: num(o.rounds),
      minSites: num(o.minSites),
      localEpochs: num(o.localEpochs),
      lr: num(o.lr),
      batchSize: num(o.batchSize),
      optimizer: o.optimizer,
      seed: num(o.seed),
      roundTimeoutSec: num(o.roundTimeout),
      waitForSitesSec: num(o.waitForSites),
    }).filter(([, v]) => v !== undefined),
  );
  const run = await client.startRun(body);
  console.log(`run ${run.id} ${run.status} (study ${run.study}, config ${run.configHash.slice(0, 16)})`);
  if (o.wait !== true) return 0;
  const done = await client.follow(run.id, (r, view) => console.log(roundLine(r, view)));
  return printRunEnd(done);
}

export function printRunEnd(run: RunView): number {
  const points = run.rounds.filter((r) => r.round > 0 && r.metrics.evalMetric !== undefined).map((r) => ({ round: r.round, value: r.metrics.evalMetric! }));
  if (points.length > 1) console.log(metricChart(run.metric, points));
  if (run.status === 'completed') {
    const last = run.rounds[run.rounds.length - 1];
    console.log(`run ${run.id} completed: final model ${last?.modelHash ?? '–'} (ledger #${last?.ledgerIndex ?? '–'})`);
    return 0;
  }
  console.log(`run ${run.id} ${run.status}: ${run.error ?? ''}`);
  return 1;
}

export async function runStatusCommand(url: string, id: string): Promise<number> {
  const run = await new CoordinatorClient(url).run(id);
  console.log(`run ${run.id}: ${run.status}${run.error ? ` (${run.error})` : ''}, study ${run.study}`);
  for (const r of run.rounds) console.log(roundLine(r, run));
  return run.status === 'failed' ? 1 : 0;
}

export async function predictCommand(o: { coordinator: string; input: string; run?: string; model?: string }): Promise<void> {
  const features = readJson(o.input);
  if (typeof features !== 'object' || features === null || Array.isArray(features)) {
    throw new FedrxError('E_BAD_REQUEST', `${o.input} must hold one JSON object of feature columns`);
  }
  const res = await new CoordinatorClient(o.coordinator).predict({
    features: features as Record<string, unknown>,
    ...(o.run === undefined ? {} : { runId: o.run }),
    ...(o.model === undefined ? {} : { modelHash: o.model }),
  });
  console.log(JSON.stringify(res, null, 2));
}
