// A small typed client of the coordinator's REST API, for the CLI, the demo and the tests.

import { FedrxError, type ErrorCode, ERROR_CODES } from '../shared/errors.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import type { ChainCheck, LedgerEntry } from '../shared/ledger.js';
import { sendRequest } from './http-request.js';
import type { RoundRow } from './store.js';

export interface RunView {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  error: string | null;
  study: string;
  metric: string;
  config: { rounds: number; minSites: number; [k: string]: unknown };
  configHash: string;
  preprocessing: Preprocessing | null;
  rounds: RoundRow[];
}

export interface PredictResponse {
  prediction: number | string;
  unit?: string;
  probabilities?: Record<string, number>;
  runId: string;
  round: number;
  modelHash: string;
  ledgerIndex: number;
  entryHash: string;
}

export type BatchPredictResponse = Omit<PredictResponse, 'prediction' | 'unit' | 'probabilities'> & {
  predictions: {
    index: number;
    id?: string;
    prediction?: number | string;
    unit?: string;
    error?: { code: string; message: string };
  }[];
};

export interface ClientOptions {
  /** Extra trust anchors (PEM) for an https coordinator: its self-signed certificate or the hospital's CA. */
  ca?: Buffer | string;
}

export class CoordinatorClient {
  readonly base: string;

  constructor(
    url: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await sendRequest(this.base + path, { method, body, ca: this.opts.ca });
    return parseAnswer<T>(res.status, res.text);
  }

  health(): Promise<{ ok: boolean; ledger: { length: number; headHash: string }; sitesConnected: number }> {
    return this.call('GET', '/healthz');
  }
  startRun(body: Record<string, unknown>): Promise<RunView> {
    return this.call('POST', '/v1/runs', body);
  }
  run(id: string): Promise<RunView> {
    return this.call('GET', `/v1/runs/${encodeURIComponent(id)}`);
  }
  sites(): Promise<{ sites: { id: string; connected: boolean; backend: string | null }[] }> {
    return this.call('GET', '/v1/sites');
  }
  ledger(from = 0, limit = 1000): Promise<{ length: number; headHash: string; entries: LedgerEntry[] }> {
    return this.call('GET', `/v1/ledger?from=${from}&limit=${limit}`);
  }
  verifyLedger(): Promise<ChainCheck> {
    return this.call('GET', '/v1/ledger/verify');
  }
  predict(body: { runId?: string; modelHash?: string; features: Record<string, unknown> }): Promise<PredictResponse> {
    return this.call('POST', '/v1/predict', body);
  }
  predictBatch(body: { runId?: string; modelHash?: string; rows: Record<string, unknown>[] }): Promise<BatchPredictResponse> {
    return this.call('POST', '/v1/predict/batch', body);
  }

  /** Polls a run, calling `onRound` once per new round, until it ends. */
  async follow(id: string, onRound: (r: RoundRow, run: RunView) => void, pollMs = 300): Promise<RunView> {
    let seen = 0;
    for (;;) {
      const run = await this.run(id);
      for (const r of run.rounds.slice(seen)) onRound(r, run);
      seen = run.rounds.length;
      if (run.status === 'completed' || run.status === 'failed') return run;
      await new Promise((res) => setTimeout(res, pollMs));
    }
  }
}

/** The coordinator's JSON answer, or its coded error. */
function parseAnswer<T>(status: number, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FedrxError('E_INTERNAL', `coordinator answered ${status} with non-JSON`);
  }
  if (status < 200 || status > 299) {
    const err = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } }).error;
    const code = err?.code !== undefined && err.code in ERROR_CODES ? (err.code as ErrorCode) : 'E_INTERNAL';
    throw new FedrxError(code, err?.message ?? `HTTP ${status}`, err?.details);
  }
  return json as T;
}
