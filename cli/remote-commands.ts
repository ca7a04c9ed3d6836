// CLI commands that talk to a running coordinator over its REST API.

import { checkCoverage } from '../shared/conformal/coverage.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { toCsv } from '../datasets/write-csv.js';
import { FedrxError } from '../shared/errors.js';
import { parseStudyText } from '../shared/load-study.js';
import { parseL2 } from '../shared/exact/penalty.js';
import { readCaFile } from '../shared/tls.js';
import { CoordinatorClient, type RunView } from './client/client.js';
import { metricChart, roundLine } from './round-format.js';
import { strategyOptionFields } from './strategy-flags.js';
import { dpField } from './dp-flags.js';


const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FedrxError('E_BAD_REQUEST', `cannot read JSON from ${path}: ${(e as Error).message}`);
  }
}

function readStudyFile(path: string): unknown {
  try {
    return parseStudyText(readFileSync(path, 'utf8'), path);
  } catch (e) {
    throw new FedrxError('E_BAD_REQUEST', `cannot read study file ${path}: ${(e as Error).message}`);
  }
}

/**
 * The API client of a CLI command, with the caller's API token (`--token`, else FEDRX_TOKEN).
 * `--tls-ca FILE` (else FEDRX_TLS_CA) adds trust anchors for an https coordinator; the flag with
 * an http URL is a mistake worth saying, the variable is not.
 */
export function apiClient(url: string, o: { token?: string | undefined; tlsCa?: string | undefined }): CoordinatorClient {
  const token = o.token ?? process.env.FEDRX_TOKEN;
  if (token === undefined || token === '') {
    throw new FedrxError('E_UNAUTHENTICATED', 'no API token: pass --token or set FEDRX_TOKEN (an admin creates one with `fedrx token create`)');
  }
  const envCa = process.env.FEDRX_TLS_CA === '' ? undefined : process.env.FEDRX_TLS_CA;
  if (o.tlsCa !== undefined && !/^https:/i.test(url)) {
    throw new FedrxError('E_TLS_CONFIG', `--tls-ca is for an https:// coordinator URL, got ${url}`);
  }
  const caFile = o.tlsCa ?? (/^https:/i.test(url) ? envCa : undefined);
  return new CoordinatorClient(url, { token, ...(caFile === undefined ? {} : { ca: readCaFile(caFile) }) });
}

const optString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function startRunCommand(o: Record<string, unknown>): Promise<number> {
  const client = apiClient(String(o.coordinator), { token: optString(o.token), tlsCa: optString(o.tlsCa) });
  const run = await client.startRun(runBody(o));
  console.log(`run ${run.id} ${run.status} (study ${run.study}, config ${run.configHash.slice(0, 16)})`);
  if (o.wait !== true) return 0;
  const done = await client.follow(run.id, (r, view) => console.log(roundLine(r, view)));
  return printRunEnd(done);
}

/** The POST /v1/runs body of `fedrx run start`'s flags (and `fedrx simulate`'s, which shares them). */
export function runBody(o: Record<string, unknown>): Record<string, unknown> {
  const studyArg = String(o.study);
  const study = existsSync(studyArg) ? readStudyFile(studyArg) : studyArg;
  return Object.fromEntries(
    Object.entries({
      study,
      strategy: o.strategy,
      l2: typeof o.l2 === 'string' ? parseL2(o.l2) : undefined,
      // Already checked against their schemas by the flags' parsers.
      ...strategyOptionFields(o),
      rounds: num(o.rounds),
      minSites: num(o.minSites),
      localEpochs: num(o.localEpochs),
      lr: num(o.lr),
      lrDecay: num(o.lrDecay),
      batchSize: num(o.batchSize),
      optimizer: o.optimizer,
      seed: num(o.seed),
      roundTimeoutSec: num(o.roundTimeout),
      waitForSitesSec: num(o.waitForSites),
      endorsementQuorum: num(o.quorum),
      serveEndorsedOnly: o.serveEndorsedOnly === true ? true : undefined,
      patience: num(o.patience),
      // Refused here, before anything is sent: NaN or a value outside (0, 1) is E_BAD_COVERAGE.
      coverage: o.coverage === undefined ? undefined : checkCoverage(Number(o.coverage)),
      dp: dpField(o),
      secureAggregation: secureFlags(o),
    }).filter(([, v]) => v !== undefined),
  );
}

export function printRunEnd(run: RunView): number {
  const points = run.rounds.filter((r) => r.round > 0 && r.metrics.evalMetric !== undefined).map((r) => ({ round: r.round, value: r.metrics.evalMetric! }));
  if (points.length > 1) console.log(metricChart(run.metric, points));
  if (run.status === 'completed') {
    const committed = run.rounds.filter((r) => r.status === 'committed');
    const kept = committed.find((r) => r.round === run.bestRound) ?? committed[committed.length - 1];
    if (run.stopReason !== null) console.log(`run ${run.id} ${run.stopReason}`);
    const why = kept?.metrics.valLoss === undefined ? 'the last round' : 'best by validation loss';
    console.log(`run ${run.id} completed: serves round ${kept?.round ?? '–'} (${why}), model ${kept?.modelHash ?? '–'} (ledger #${kept?.ledgerIndex ?? '–'})`);
    return 0;
  }
  // "run run-… cancelled by data-scientist dr-lee (tok-…)", or "run run-… failed: why".
  console.log(run.status === 'cancelled' ? `run ${run.id} ${run.stopReason ?? 'cancelled'}` : `run ${run.id} ${run.status}: ${run.error ?? ''}`);
  return 1;
}

export async function runStatusCommand(url: string, id: string, o: { token?: string | undefined; tlsCa?: string | undefined } = {}): Promise<number> {
  const run = await apiClient(url, o).run(id);
  const kept = run.bestRound === null ? '' : `, serves round ${run.bestRound}`;
  const asked = run.status === 'running' && run.cancelRequestedAt !== null ? ` (cancel requested by ${run.cancelRequestedBy ?? '?'} at ${run.cancelRequestedAt})` : '';
  console.log(`run ${run.id}: ${run.status}${asked}${run.error ? ` (${run.error})` : ''}${run.stopReason ? ` (${run.stopReason})` : ''}${kept}, study ${run.study}`);
  for (const r of run.rounds) console.log(roundLine(r, run));
  return run.status === 'failed' ? 1 : 0;
}

/** A queued run ends at once; a running one is asked to stop, and the coordinator drops its round in flight and ends it. */
export async function runCancelCommand(url: string, id: string, o: { token?: string | undefined; tlsCa?: string | undefined } = {}): Promise<number> {
  const run = await apiClient(url, o).cancelRun(id);
  if (run.status === 'cancelled') console.log(`run ${run.id} ${run.stopReason ?? 'cancelled'}`);
  else console.log(`run ${run.id} ${run.status}: asked to stop; its round in flight is dropped and it ends cancelled (see fedrx run status ${run.id})`);
  return 0;
}

/** `--secure-aggregation` and its `--secagg-*` settings (any of which turns it on), as the REST field. */
function secureFlags(o: Record<string, unknown>): true | Record<string, number> | undefined {
  const settings = Object.fromEntries(
    Object.entries({ threshold: num(o.secaggThreshold), neighbours: num(o.secaggNeighbours), clip: num(o.secaggClip), quantBits: num(o.secaggQuantBits) }).filter(([, v]) => v !== undefined),
  ) as Record<string, number>;
  if (Object.keys(settings).length > 0) return settings;
  return o.secureAggregation === true ? true : undefined;
}
