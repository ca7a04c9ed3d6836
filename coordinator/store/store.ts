// Everything the coordinator keeps, except the ledger's own rules (ledger-store.ts): sites, runs,
// rounds with per-site outcomes, and models by hash. A committed round (model, round row, site
// rows, ledger entry) is written in one transaction.

import { randomUUID } from 'node:crypto';
import { FedrxError, isErrorCode, type ErrorCode } from '../../shared/errors.js';
import type { Preprocessing } from '../../shared/feature-stats.js';
import type { LedgerEntry, UnsignedEntry } from '../../shared/ledger.js';
import { signHead, type SignedHead } from '../../shared/ledger-head.js';
import type { RunConfig } from '../run-config-schema.js';
import { decodeFrame, decodeFrame64, encodeFrame, encodeFrame64 } from '../../shared/tensor-codec.js';
import type { NamedTensor64, Weights } from '../../shared/tensors.js';
import type { Db } from './db.js';
import { EndorsementStore } from './endorsement-store.js';
import { writeHeadFile } from './head-file.js';
import { LedgerStore } from './ledger-store.js';
import { putModelFrame, readModelFrame } from './model-frames.js';
import { PrivacyBudgets } from './privacy-budgets.js';
import { SiteRegistry } from './site-registry.js';
import type { KeyPair } from '../../shared/signing.js';
import type { RunStatus } from './run-status.js';

export type { RunStatus } from './run-status.js';

export interface RunRow {
  id: string;
  seq: number;
  config: RunConfig;
  configHash: string;
  /** Fixed from the sites' statistics at the start of the run; null before that. */
  preprocessing: Preprocessing | null;
  status: RunStatus;
  error: string | null;
  /** The round whose model the run keeps and serves: best by validation, else the last. */
  bestRound: number | null;
  /** Why a run ended before its last round (early stopping, a cancel); null otherwise. */
  stopReason: string | null;
  /** When, and by whom, the run was asked to stop (`fedrx run cancel`); null if never. */
  cancelRequestedAt: string | null;
  cancelRequestedBy: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface SiteOutcome {
  siteId: string;
  status: 'accepted' | 'rejected' | 'missing' | 'failed';
  code?: ErrorCode;
  reason?: string;
  numExamples?: number;
  updateHash?: string;
  /** The site's signature over its update: carried into the ledger entry, not the round_sites table. */
  signature?: string;
  trainLoss?: number;
  /** The update's frame as received, in bytes (for the round's metrics; not kept in round_sites). */
  updateBytes?: number;
  /** A regional agent's update: its regional coordinator's signed head, for the entry's children (not kept in round_sites). */
  childHead?: SignedHead;
  evalExamples?: number;
  evalLoss?: number;
  evalMetric?: number;
}

/** A run's state after a committed round, enough to go on from the next one. */
export interface SavedRunState {
  round: number;
  /** The run loop's own progress (best round so far, …), as JSON. */
  progress: string;
  /** The strategy's state (coordinator/strategies/ snapshot()), float64 so it comes back bit for bit; null when it keeps none. */
  strategy: NamedTensor64[] | null;
}

export interface RoundRow {
  round: number;
  status: 'committed' | 'failed';
  modelHash: string | null;
  metrics: Record<string, number>;
  error: string | null;
  ledgerIndex: number | null;
  startedAt: string;
  endedAt: string;
  sites: SiteOutcome[];
}

const now = (): string => new Date().toISOString();

interface RawRun {
  id: string;
  seq: number;
  config_json: string;
  config_hash: string;
  preprocessing_json: string | null;
  status: RunStatus;
  error: string | null;
  best_round?: number | null;
  stop_reason?: string | null;
  cancel_requested_at?: string | null;
  cancel_requested_by?: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

const toRun = (r: RawRun): RunRow => ({
  id: r.id,
  seq: r.seq,
  config: JSON.parse(r.config_json) as RunConfig,
  configHash: r.config_hash,
  preprocessing: r.preprocessing_json === null ? null : (JSON.parse(r.preprocessing_json) as Preprocessing),
  status: r.status,
  error: r.error,
  // A read-only coordinator does not migrate: an older file lacks these columns.
  bestRound: r.best_round ?? null,
  stopReason: r.stop_reason ?? null,
  cancelRequestedAt: r.cancel_requested_at ?? null,
  cancelRequestedBy: r.cancel_requested_by ?? null,
  createdAt: r.created_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

export class Store {
  readonly ledger: LedgerStore;
  readonly sites: SiteRegistry;
  readonly endorsements: EndorsementStore;
  readonly budgets: PrivacyBudgets;

  /**
   * `signer`: the coordinator's key pair, needed to append ledger entries (not to read them).
   * `headFile`: where the signed head is recorded after every commit (head-file.ts).
   */
  constructor(
    readonly db: Db,
    private readonly signer: KeyPair | null = null,
    private readonly headFile: string | null = null,
  ) {
    this.ledger = new LedgerStore(db, signer);
    this.sites = new SiteRegistry(db);
    this.endorsements = new EndorsementStore(db);
    this.budgets = new PrivacyBudgets(db);
  }

  // ---- runs ----

  createRun(config: RunConfig, configHash: string): RunRow {
    const id = `run-${randomUUID().slice(0, 8)}`;
    const seq = ((this.db.prepare('SELECT MAX(seq) AS m FROM runs').get() as { m: number | null }).m ?? 0) + 1;
    this.db
      .prepare(`INSERT INTO runs (id, seq, config_json, config_hash, status, created_at) VALUES (?, ?, ?, ?, 'queued', ?)`)
      .run(id, seq, JSON.stringify(config), configHash, now());
    return this.getRun(id)!;
  }

  getRun(id: string): RunRow | null {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    return r === undefined ? null : toRun(r);
  }

  /** The newest runs first, each with its committed training rounds (round 0, the statistics, not counted). */
  listRuns(limit = 100): (RunRow & { roundsDone: number })[] {
    const rows = this.db
      .prepare(
        `SELECT runs.*, (SELECT COUNT(*) FROM rounds WHERE rounds.run_id = runs.id AND rounds.status = 'committed' AND rounds.round > 0) AS rounds_done
         FROM runs ORDER BY seq DESC LIMIT ?`,
      )
      .all(limit) as (RawRun & { rounds_done: number })[];
    return rows.map((r) => ({ ...toRun(r), roundsDone: r.rounds_done }));
  }

  setPreprocessing(id: string, prep: Preprocessing): void {
    this.db.prepare('UPDATE runs SET preprocessing_json = ? WHERE id = ?').run(JSON.stringify(prep), id);
  }

  /** A resumed run keeps the time it first started. */
  markRunning(id: string): void {
    this.db.prepare(`UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ?`).run(now(), id);
  }

  endRun(id: string, status: 'completed' | 'failed' | 'cancelled', error: string | null = null, stopReason: string | null = null): void {
    this.db.prepare('UPDATE runs SET status = ?, error = ?, stop_reason = ?, ended_at = ? WHERE id = ?').run(status, error, stopReason, now(), id);
  }

  setBestRound(id: string, round: number): void {
    this.db.prepare('UPDATE runs SET best_round = ? WHERE id = ?').run(round, id);
  }

  /**
   * A queued run is cancelled at once; a running one is asked to stop (the run loop ends it,
   * endCancelledRun); a finished one is left as it is. `by` says who asked, for the record.
   */
  cancelRun(id: string, by: string): 'cancelled' | 'requested' | 'finished' | 'unknown' {
    return this.db.transaction(() => {
      const at = now();
      const queued = this.db
        .prepare(`UPDATE runs SET status = 'cancelled', stop_reason = ?, cancel_requested_at = ?, cancel_requested_by = ?, ended_at = ? WHERE id = ? AND status = 'queued'`)
        .run(`cancelled by ${by} before it started`, at, by, at, id);
      if (queued.changes === 1) return 'cancelled';
      // The first request stands: asking again changes nothing.
      const running = this.db
        .prepare(`UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, ?), cancel_requested_by = COALESCE(cancel_requested_by, ?) WHERE id = ? AND status = 'running'`)
        .run(at, by, id);
      if (running.changes === 1) return 'requested';
      return this.getRun(id) === null ? 'unknown' : 'finished';
    })();
  }

  /** Whether a running run was asked to stop: the run loop asks whenever a phase ends, and before each round. */
  isCancelRequested(id: string): boolean {
    const r = this.db.prepare(`SELECT cancel_requested_at FROM runs WHERE id = ? AND status = 'running'`).get(id) as { cancel_requested_at?: string | null } | undefined;
    return (r?.cancel_requested_at ?? null) !== null;
  }

  /** Ends a run that was asked to stop as cancelled, naming who asked. */
  endCancelledRun(id: string): void {
    const by = this.getRun(id)?.cancelRequestedBy ?? 'request';
    this.endRun(id, 'cancelled', null, `cancelled by ${by}`);
  }

  /** The run to work on next: one a stopped coordinator left running (it resumes), else the oldest queued. */
  nextRun(): RunRow | null {
    const r = this.db.prepare(`SELECT * FROM runs WHERE status IN ('running', 'queued') ORDER BY status = 'queued', seq LIMIT 1`).get() as RawRun | undefined;
    return r === undefined ? null : toRun(r);
  }

  /** Runs a stopped coordinator left running: they resume from their last committed round. */
  interruptedRuns(): RunRow[] {
    return (this.db.prepare(`SELECT * FROM runs WHERE status = 'running' ORDER BY seq`).all() as RawRun[]).map(toRun);
  }

  /** Where a run stands after its last committed round, or null when it committed none. */
  savedState(runId: string): SavedRunState | null {
    const r = this.db.prepare('SELECT round, progress_json, strategy_frame FROM run_state WHERE run_id = ?').get(runId) as
      | { round: number; progress_json: string; strategy_frame: Buffer | null }
      | undefined;
    if (r === undefined) return null;
    return { round: r.round, progress: r.progress_json, strategy: r.strategy_frame === null ? null : decodeFrame64(r.strategy_frame).tensors };
  }

  // ---- models and rounds ----

  getModel(hash: string): { runId: string; round: number; weights: Weights } | null {
    const r = readModelFrame(this.db, hash);
    return r === undefined ? null : { runId: r.run_id, round: r.round, weights: decodeFrame(r.frame).weights };
  }

  /** Ledger index of a committed round, or null. */
  roundLedgerIndex(runId: string, round: number): number | null {
    const r = this.db.prepare(`SELECT ledger_index FROM rounds WHERE run_id = ? AND round = ? AND status = 'committed'`).get(runId, round) as
      | { ledger_index: number | null }
      | undefined;
    return r?.ledger_index ?? null;
  }

  /** The newest committed model: of one run, or of any run. */
  latestModelHash(runId?: string): { runId: string; round: number; modelHash: string } | null {
    const r = (
      runId === undefined
        ? this.db.prepare(`SELECT run_id, round, model_hash FROM ledger ORDER BY idx DESC LIMIT 1`).get()
        : this.db.prepare(`SELECT run_id, round, model_hash FROM ledger WHERE run_id = ? ORDER BY idx DESC LIMIT 1`).get(runId)
    ) as { run_id: string; round: number; model_hash: string } | undefined;
    return r === undefined ? null : { runId: r.run_id, round: r.round, modelHash: r.model_hash };
  }

  /**
   * One transaction: the model, the round row, each site's outcome and the ledger entry. Either
   * all of it is there after a crash, or none of it.
   */
  commitRound(args: {
    runId: string;
    round: number;
    startedAt: string;
    modelHash: string;
    weights: Weights;
    metrics: Record<string, number>;
    sites: SiteOutcome[];
    entry: Omit<UnsignedEntry, 'index' | 'prevHash' | 'runId' | 'round' | 'modelHash' | 'metrics' | 'createdAt' | 'coordinatorKey'>;
    /** What the run needs to go on from this round (its `round` is this one). */
    state: Omit<SavedRunState, 'round'>;
    /** The round whose model the run serves from now on; null leaves it as it was (round 0). */
    bestRound: number | null;
    /** Round 0 fixes the run's preprocessing. */
    preprocessing?: Preprocessing;
  }): LedgerEntry {
    const entry = this.db.transaction(() => {
      const createdAt = now();
      if (args.preprocessing !== undefined) this.db.prepare('UPDATE runs SET preprocessing_json = ? WHERE id = ?').run(JSON.stringify(args.preprocessing), args.runId);
      if (args.bestRound !== null) this.db.prepare('UPDATE runs SET best_round = ? WHERE id = ?').run(args.bestRound, args.runId);
      this.db
        .prepare('INSERT OR REPLACE INTO run_state (run_id, round, progress_json, strategy_frame) VALUES (?, ?, ?, ?)')
        .run(args.runId, args.round, args.state.progress, args.state.strategy === null ? null : encodeFrame64({ kind: 'strategy-state' }, args.state.strategy));
      putModelFrame(this.db, { hash: args.modelHash, runId: args.runId, round: args.round, createdAt }, encodeFrame({ kind: 'model' }, args.weights));
      const entry = this.ledger.append({
        ...args.entry,
        runId: args.runId,
        round: args.round,
        modelHash: args.modelHash,
        metrics: args.metrics,
        createdAt,
      });
      this.db
        .prepare(
          `INSERT INTO rounds (run_id, round, status, model_hash, metrics_json, ledger_index, started_at, ended_at)
           VALUES (?, ?, 'committed', ?, ?, ?, ?, ?)`,
        )
        .run(args.runId, args.round, args.modelHash, JSON.stringify(args.metrics), entry.index, args.startedAt, createdAt);
      this.insertSiteOutcomes(args.runId, args.round, args.sites);
      return entry;
    })();
    // After the commit, never before: the file may lag the table after a crash, never lead it.
    this.recordHead();
    return entry;
  }

  /** Writes the signed head file for the ledger as it is now (no-op without a file or key). */
  recordHead(): void {
    if (this.headFile === null || this.signer === null) return;
    const { length, headHash } = this.ledger.head();
    writeHeadFile(this.headFile, { length, headHash }, this.signer);
  }

  /** The ledger's head as it is now, signed by the coordinator key (also without a head file, e.g. `:memory:`). */
  signedHead(): SignedHead {
    if (this.signer === null) throw new FedrxError('E_READ_ONLY', 'a read-only coordinator holds no signing key');
    const { length, headHash } = this.ledger.head();
    return signHead({ length, headHash }, this.signer);
  }

  /** A round that could not close ends its run: the round's row, its sites and the run's end, together. */
  failRun(runId: string, round: number, startedAt: string, error: string, sites: SiteOutcome[]): void {
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO rounds (run_id, round, status, metrics_json, error, started_at, ended_at) VALUES (?, ?, 'failed', '{}', ?, ?, ?)`)
        .run(runId, round, error, startedAt, now());
      this.insertSiteOutcomes(runId, round, sites);
      this.endRun(runId, 'failed', error);
    })();
  }

  private insertSiteOutcomes(runId: string, round: number, sites: SiteOutcome[]): void {
    const stmt = this.db.prepare(
      `INSERT INTO round_sites (run_id, round, site_id, status, code, reason, num_examples, update_hash, train_loss,
         eval_examples, eval_loss, eval_metric) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    for (const s of sites) {
      stmt.run(runId, round, s.siteId, s.status, s.code ?? null, s.reason ?? null, s.numExamples ?? null, s.updateHash ?? null,
        s.trainLoss ?? null, s.evalExamples ?? null, s.evalLoss ?? null, s.evalMetric ?? null);
    }
  }

  rounds(runId: string): RoundRow[] {
    const rows = this.db.prepare('SELECT * FROM rounds WHERE run_id = ? ORDER BY round').all(runId) as {
      round: number;
      status: 'committed' | 'failed';
      model_hash: string | null;
      metrics_json: string;
      error: string | null;
      ledger_index: number | null;
      started_at: string;
      ended_at: string;
    }[];
    const siteRows = this.db.prepare('SELECT * FROM round_sites WHERE run_id = ? ORDER BY round, site_id').all(runId) as Record<
      string,
      string | number | null
    >[];
    return rows.map((r) => ({
      round: r.round,
      status: r.status,
      modelHash: r.model_hash,
      metrics: JSON.parse(r.metrics_json) as Record<string, number>,
      error: r.error,
      ledgerIndex: r.ledger_index,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      sites: siteRows.filter((s) => s.round === r.round).map(toOutcome),
    }));
  }
}

function toOutcome(s: Record<string, string | number | null>): SiteOutcome {
  const out: SiteOutcome = { siteId: String(s.site_id), status: s.status as SiteOutcome['status'] };
  const put = <K extends keyof SiteOutcome>(k: K, v: string | number | null | undefined): void => {
    if (v !== null && v !== undefined) out[k] = v as SiteOutcome[K];
  };
  // Older versions stored any E_… code a site sent: one that is not ours is left out, its reason kept.
  if (isErrorCode(s.code)) out.code = s.code;
  put('reason', s.reason);
  put('numExamples', s.num_examples);
  put('updateHash', s.update_hash);
  put('trainLoss', s.train_loss);
  put('evalExamples', s.eval_examples);
  put('evalLoss', s.eval_loss);
  put('evalMetric', s.eval_metric);
  return out;
}
