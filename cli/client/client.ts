// A small typed client of the coordinator's REST API, for the CLI, the demo and the tests.

import type { Static } from '@sinclair/typebox';
import type { BatchPredictionResponse, PredictionResponse } from '../../coordinator/http/schemas/predict.js';
import { FedrxError, isErrorCode, type CodedMessage } from '../../shared/errors.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import type { DisputeRow } from '../../coordinator/store/endorsement-store.js';
import type { ModelInputs } from '../../coordinator/predictor.js';
import type { EntryEndorsements } from '../../coordinator/trust/endorsements.js';
import type { AuditVerdict, EntryAudit } from '../../coordinator/trust/ledger-audit.js';
import type { AuditEntry } from '../../coordinator/trust/audit-log.js';
import type { Role } from '../../shared/roles.js';
import { sendRequest, type HttpAnswer } from './http-request.js';
import type { RelayEvaluation, RelayStatistics } from '../../shared/relay-wire.js';
import type { RoundRow, RunRow } from '../../coordinator/store/store.js';
import { isFinished } from '../../coordinator/store/run-status.js';
import type { RunSummary } from '../../coordinator/http/routes/runs.js';
import type { CreatedToken, TokenInfo } from '../../coordinator/trust/token-store.js';
import type { PrivacyReport } from '../../coordinator/privacy/privacy-report.js';
import type { BudgetChange } from '../../coordinator/store/privacy-budgets.js';

/** GET /v1/runs/:id: the run's row (fields as the store keeps them), its study and metric by name, and its rounds. */
export interface RunView extends Pick<RunRow, 'id' | 'status' | 'error' | 'bestRound' | 'stopReason' | 'cancelRequestedAt' | 'cancelRequestedBy' | 'configHash' | 'preprocessing'> {
  study: string;
  metric: string;
  config: { rounds: number; minSites: number; [k: string]: unknown };
  rounds: RoundRow[];
}

/** A prediction with its calibrated interval (or set) and the ledger entry of its model and quantile. */
export type PredictResponse = Static<typeof PredictionResponse>;
export type BatchPredictResponse = Omit<Static<typeof BatchPredictionResponse>, 'predictions'> & {
  predictions: (Omit<Static<typeof BatchPredictionResponse>['predictions'][number], 'error'> & { error?: CodedMessage })[];
};

export type { ModelInputs } from '../../coordinator/predictor.js';
type ModelRef = { runId?: string; modelHash?: string };

export interface ClientOptions {
  /** An API token, sent as `Authorization: Bearer`. */
  token?: string;
  /** Extra trust anchors (PEM) for an https coordinator: its self-signed certificate or the hospital's CA. */
  ca?: Buffer | string;
}

export class CoordinatorClient {
  readonly base: string;
  private readonly token: string | undefined;

  /** `token`: an API token whose role the routes called accept (`fedrx token create`); `ca`: see ClientOptions. */
  constructor(
    url: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.base = url.replace(/\/+$/, '');
    this.token = opts.token;
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const res = await this.send(method, path, body, timeoutMs);
    return parseAnswer<T>(res.status, res.text);
  }

  private send(method: string, path: string, body: unknown, timeoutMs: number | undefined): Promise<HttpAnswer> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    return sendRequest(this.base + path, { method, headers, body, ca: this.opts.ca, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  health(): Promise<{ ok: boolean; ledger: { length: number; headHash: string }; sitesConnected: number }> {
    return this.call('GET', '/healthz');
  }
  startRun(body: Record<string, unknown>): Promise<RunView> {
    return this.call('POST', '/v1/runs', body);
  }
  /** A relay run (`relay: { parentRunId, idleSec? }` beside the usual fields): it runs the steps posted below, as a regional coordinator for its parent. */
  createRun(body: Record<string, unknown> & { relay?: { parentRunId: string; idleSec?: number } }): Promise<RunView> {
    return this.startRun(body);
  }
  // A relay step runs a round (waiting for sites, then for their answers): no timeout of our own.
  /** Round 0 of a relay run: the sites' statistics, merged. */
  relayStatistics(runId: string): Promise<RelayStatistics> {
    return this.call('POST', `${relayPath(runId)}/statistics`, {}, 0);
  }
  /** One training round from a task frame (kind train, this run's id): a relay-update frame (shared/relay-wire.ts decodeRelayUpdate). */
  async relayTrain(runId: string, frame: Buffer): Promise<Buffer> {
    const res = await this.send('POST', `${relayPath(runId)}/train`, frame, 0);
    if (res.status === 200 && res.contentType.startsWith('application/octet-stream')) return res.bytes;
    parseAnswer<unknown>(res.status, res.text);
    throw new FedrxError('E_INTERNAL', `coordinator answered a relay training round with ${res.contentType || 'no content type'}, not a frame`);
  }
  /** The sites' evaluation of a task frame's model (kind evaluate), pooled as one site holding all their rows would answer. */
  relayEvaluate(runId: string, frame: Buffer): Promise<RelayEvaluation> {
    return this.call('POST', `${relayPath(runId)}/evaluate`, frame, 0);
  }
  /** Completes the relay run. */
  relayEnd(runId: string): Promise<RunView> {
    return this.call('POST', `${relayPath(runId)}/end`, undefined, 0);
  }
  run(id: string): Promise<RunView> {
    return this.call('GET', `/v1/runs/${encodeURIComponent(id)}`);
  }
  /** The newest runs first. */
  runs(limit?: number): Promise<{ runs: RunSummary[] }> {
    return this.call('GET', `/v1/runs${limit === undefined ? '' : `?limit=${limit}`}`);
  }
  /** A queued run is cancelled at once; a running one is asked to stop (its status says when it has). */
  cancelRun(id: string): Promise<RunView> {
    return this.call('POST', `/v1/runs/${encodeURIComponent(id)}/cancel`);
  }
  privacy(): Promise<PrivacyReport> {
    return this.call('GET', '/v1/privacy');
  }
  setBudget(siteId: string, epsilon: number | null): Promise<BudgetChange> {
    return this.call('PUT', `/v1/privacy/budgets/${encodeURIComponent(siteId)}`, { epsilon });
  }
  sites(): Promise<{ sites: { id: string; connected: boolean; backend: string | null; pingMs: number | null }[] }> {
    return this.call('GET', '/v1/sites');
  }
  ledger(from = 0, limit = 1000): Promise<{ length: number; headHash: string; entries: LedgerEntry[] }> {
    return this.call('GET', `/v1/ledger?from=${from}&limit=${limit}`);
  }
  /** The full audit: hashes, links, signatures and endorsements, with per-entry detail. */
  verifyLedger(): Promise<AuditVerdict & { entries: EntryAudit[] }> {
    return this.call('GET', '/v1/ledger/verify');
  }
  endorsements(from = 0, limit = 1000): Promise<{ entries: EntryEndorsements[]; disputes: DisputeRow[] }> {
    return this.call('GET', `/v1/ledger/endorsements?from=${from}&limit=${limit}`);
  }
  registerSite(siteId: string, publicKey: string): Promise<{ change: string; site: { id: string; publicKey: string; revoked: boolean } }> {
    return this.call('POST', '/v1/sites', { siteId, publicKey });
  }
  revokeSite(siteId: string): Promise<{ site: { id: string; revoked: boolean } }> {
    return this.call('DELETE', `/v1/sites/${encodeURIComponent(siteId)}`);
  }
  predict(body: { runId?: string; modelHash?: string; features: Record<string, unknown> }): Promise<PredictResponse> {
    return this.call('POST', '/v1/predict', body);
  }
  predictBatch(body: { runId?: string; modelHash?: string; rows: Record<string, unknown>[] }): Promise<BatchPredictResponse> {
    return this.call('POST', '/v1/predict/batch', body);
  }
  /** A table: column names once, rows as arrays in that order (compact at genomic width). */
  predictTable(body: ModelRef & { columns: string[]; rows: (string | number | boolean | null)[][] }): Promise<BatchPredictResponse> {
    return this.call('POST', '/v1/predict/table', body);
  }
  /** The columns the model that would answer reads, with its provenance. */
  modelInputs(ref: ModelRef = {}): Promise<ModelInputs> {
    const q = new URLSearchParams(Object.entries(ref).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return this.call('GET', `/v1/model/inputs${q === '' ? '' : `?${q}`}`);
  }
  createToken(role: Role, label?: string): Promise<CreatedToken> {
    return this.call('POST', '/v1/tokens', label === undefined ? { role } : { role, label });
  }
  tokens(): Promise<{ tokens: TokenInfo[] }> {
    return this.call('GET', '/v1/tokens');
  }
  revokeToken(id: string): Promise<{ id: string; revoked: true }> {
    return this.call('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }
  auditLog(from = 0, limit = 1000): Promise<{ entries: AuditEntry[] }> {
    return this.call('GET', `/v1/audit/predictions?from=${from}&limit=${limit}`);
  }

  /** Polls a run, calling `onRound` once per new round, until it ends. */
  async follow(id: string, onRound: (r: RoundRow, run: RunView) => void, pollMs = 300): Promise<RunView> {
    let seen = 0;
    for (;;) {
      const run = await this.run(id);
      for (const r of run.rounds.slice(seen)) onRound(r, run);
      seen = run.rounds.length;
      if (isFinished(run.status)) return run;
      await new Promise((res) => setTimeout(res, pollMs));
    }
  }
}

const relayPath = (runId: string): string => `/v1/runs/${encodeURIComponent(runId)}/relay`;

/** The coordinator's JSON answer, or its coded error. */
export function parseAnswer<T>(status: number, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FedrxError('E_INTERNAL', `coordinator answered ${status} with non-JSON`);
  }
  if (status < 200 || status > 299) {
    const err = (json as { error?: { code?: unknown; message?: string; details?: Record<string, unknown> } }).error;
    // A code we do not know (a newer coordinator, or not a coordinator) is not passed on as one.
    if (isErrorCode(err?.code)) throw new FedrxError(err.code, err.message ?? `HTTP ${status}`, err.details);
    const unknown = err?.code === undefined ? 'no error code' : `unknown error code ${JSON.stringify(err.code).slice(0, 64)}`;
    throw new FedrxError('E_INTERNAL', `coordinator answered ${status} with ${unknown}${err?.message === undefined ? '' : `: ${err.message}`}`);
  }
  return json as T;
}
