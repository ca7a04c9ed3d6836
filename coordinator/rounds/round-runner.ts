// The round loop, one run at a time: statistics fix the preprocessing (round 0), then each round:
// select sites → send the global model → collect updates
// until all reported or the deadline → aggregate → evaluate at the sites → commit model, round
// and ledger entry in one transaction → broadcast the entry → next round, until the last round or
// until the validation loss stops improving (best-round.ts).

import { FedrxError, isFedrxError } from '../../shared/errors.js';
import { hashConfig, type LedgerEntry } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import { initialWeights } from '../../shared/model-init.js';
import type { GroupColumns } from '../../shared/expand-study.js';
import { hashPreprocessing, hashStats, type FeatureStats } from '../../shared/feature-stats.js';
import { checkSiteStats, runPreprocessing } from '../../shared/input-list.js';
import { DEFAULT_FOLDS, type TaskConfig } from '../../shared/run-config.js';
import { DEFAULT_MIN_ROWS, inputDim, isRegression, outputDim, studyMetrics, type Study } from '../../shared/study.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { PROTOCOL_VERSION, type ExactRequest, type EvalResult, type StatsReport, type TaskError, type UpdateHeader } from '../../shared/wire.js';
import { statsReportBytes, updateFrameBytes } from '../gateway/frame-caps.js';
import type { Gateway } from '../gateway/gateway.js';
import { describeRefusals, RoundCollector, type Answer } from './round-collector.js';
import { solveExact, type ExactIo } from './exact/exact-solve.js';
import { maxExactFrameBytes } from './exact/check-exact-stats.js';
import { isSearch } from '../../shared/exact/penalty.js';
import type { RunRow, SiteOutcome, Store } from '../store/store.js';
import { createStrategy } from '../strategies/index.js';
import type { Aggregator, RoundContext, Strategy } from '../strategies/types.js';
import { evalMetrics, headlineMetric } from './eval-metrics.js';
import { phaseFailure } from './round-failure.js';
import { ExactStatsPhase, type Verdict } from './exact/exact-stats-phase.js';
import { ExactProductPhase } from './exact/exact-product-phase.js';
import { exactMode } from '../../shared/exact/crossover.js';
import { penaltyMetrics, ridgeWeights } from './exact/exact-result.js';
import { initialBestRound, observeRound } from './best-round.js';

interface TrainReport {
  numExamples: number;
  updateHash: string;
  trainLoss: number;
  /** The site's signature over its update, carried into the ledger entry. */
  signature: string;
}
/** `columns`: per feature group of the study, the columns it took at the site. */
type StatsAnswer = { stats: FeatureStats; signature: string; columns: GroupColumns };
type EvalReport = Pick<EvalResult, 'numExamples' | 'loss' | 'sums' | 'validation'>;

export interface RoundSummary {
  runId: string;
  round: number;
  rounds: number;
  entry: LedgerEntry;
  outcomes: SiteOutcome[];
}

export class RoundRunner {
  private busy = false;
  private stopping = false;
  private activeRunId: string | null = null;
  private training: { ctx: RoundContext; aggregator: Aggregator; collector: RoundCollector<TrainReport> } | null = null;
  private evaluating: { modelHash: string; collector: RoundCollector<EvalReport> } | null = null;
  private gathering: { study: Study; collector: RoundCollector<StatsAnswer> } | null = null;
  /** The exact fit's open step (coordinator/exact/), which the sites' exact-fit frames go to. */
  private exactPhase: ExactStatsPhase | ExactProductPhase | null = null;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly gateway: Gateway,
    private readonly log: (line: string) => void,
    private readonly onRound: (s: RoundSummary) => void = () => {},
  ) {
    gateway.on('update', (site, header, weights) => this.onUpdate(site, header, weights));
    gateway.on('eval', (site, msg) => this.onEval(site, msg));
    gateway.on('task-error', (site, msg) => this.onTaskError(site, msg));
    gateway.on('stats', (site, msg) => this.onStats(site, msg));
    const refuseExact = (site: string, header: { runId: string; round: number }, verdict: Verdict): void => {
      if (verdict.accepted) return;
      this.log(`refused exact-fit answer from ${site}: ${verdict.code} ${verdict.reason}`);
      this.gateway.sendError(site, verdict.code, verdict.reason, { runId: header.runId, round: header.round });
    };
    const notOpen = (runId: string): Verdict => ({ accepted: false, code: runId !== this.activeRunId ? 'E_WRONG_RUN' : 'E_STALE_ROUND', reason: `no exact fit of run ${runId} is open` });
    gateway.on('exact-stats', (site, header, tensors) => {
      const p = this.exactPhase;
      refuseExact(site, header, p instanceof ExactStatsPhase ? p.accept(site, header, tensors) : notOpen(header.runId));
    });
    gateway.on('exact-product', (site, header, tensors) => {
      const p = this.exactPhase;
      refuseExact(site, header, p instanceof ExactProductPhase ? p.accept(site, header, tensors) : notOpen(header.runId));
    });
    gateway.on('disconnected', (site, why) => {
      const missing: Answer<never> = { kind: 'refused', code: 'E_DISCONNECTED', reason: `site disconnected during the round: ${why}` };
      for (const c of this.collectors()) c.record(site, missing);
    });
  }

  /** Starts queued runs if none is running. */
  kick(): void {
    if (this.busy || this.stopping) return;
    this.busy = true;
    this.idle = this.loop().finally(() => {
      this.busy = false;
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.collectors()) c.finish();
    await this.idle;
  }

  private collectors(): RoundCollector<unknown>[] {
    return [this.gathering?.collector, this.training?.collector, this.evaluating?.collector, this.exactPhase?.collector].filter((c) => c !== undefined);
  }

  private async loop(): Promise<void> {
    for (let run = this.store.nextQueuedRun(); run !== null && !this.stopping; run = this.store.nextQueuedRun()) {
      this.activeRunId = run.id;
      try {
        await this.execute(run);
      } catch (e) {
        const message = isFedrxError(e) ? `${e.code}: ${e.message}` : `internal error: ${(e as Error).message}`;
        this.log(`run ${run.id} failed: ${message}`);
        this.store.endRun(run.id, 'failed', message);
      } finally {
        this.activeRunId = null;
        this.gateway.expectRun(null);
      }
    }
  }

  private async execute(run: RunRow): Promise<void> {
    const { config } = run;
    const study = config.study;
    const strategy = config.strategy === 'exact' ? null : createStrategy(config.strategy, config.strategyOptions);
    this.store.markRunning(run.id);
    this.log(`run ${run.id} started: ${config.strategy}, ${config.rounds} rounds, min ${config.minSites} sites, study ${study.name}`);
    const fail = (round: number, startedAt: string, reason: string, outcomes: SiteOutcome[]): void => {
      this.store.failRound(run.id, round, startedAt, reason, outcomes);
      this.store.endRun(run.id, 'failed', reason);
      this.log(`run ${run.id} failed: ${reason}`);
    };

    // Round 0: federated statistics fix the preprocessing; the entry records it and the initial model.
    const startedAt = new Date().toISOString();
    if (!(await this.waitForSites(config.minSites, config.waitForSitesSec * 1000))) {
      return fail(0, startedAt, `statistics: ${this.gateway.connectedSites().length} of the ${config.minSites} sites needed were connected after ${config.waitForSitesSec}s`, []);
    }
    this.gateway.expectRun({ statsReportBytes: statsReportBytes(study) });
    const gathered = await this.gatherStats(run);
    if (gathered.reports.length < config.minSites) {
      return fail(0, startedAt, `statistics: ${phaseFailure('statistics reports', gathered.reports.length, config.minSites, gathered.outcomes, config.roundTimeoutSec)}`, gathered.outcomes);
    }
    let fixed: ReturnType<typeof runPreprocessing>;
    try {
      fixed = runPreprocessing(study, gathered.reports);
    } catch (e) {
      if (!isFedrxError(e)) throw e;
      return fail(0, startedAt, `statistics: ${e.code}: ${e.message}`, gathered.outcomes);
    }
    // `inputs`: the study with any feature groups expanded to the run's fixed input list.
    const { prep, study: inputs } = fixed;
    this.store.setPreprocessing(run.id, prep);
    let weights = initialWeights(study.model, inputDim(inputs), outputDim(inputs), config.training.seed);
    let modelHash = hashWeights(weights);
    this.gateway.expectRun({ statsReportBytes: statsReportBytes(study), updateFrameBytes: updateFrameBytes(weights) });
    const configHash = hashConfig(config);
    const genesis = this.store.commitRound({
      runId: run.id,
      round: 0,
      startedAt,
      modelHash,
      weights,
      metrics: { sites: gathered.reports.length, trainExamples: prep.rows },
      sites: gathered.outcomes,
      entry: {
        parentModelHash: null,
        participants: gathered.reports.map((r) => ({ siteId: r.siteId, numExamples: r.stats.rows, updateHash: hashStats(r.stats), signature: r.signature })),
        configHash,
        preprocessingHash: hashPreprocessing(prep),
      },
    });
    this.gateway.broadcastLedger([genesis]);
    const widthNote = prep.inputs === undefined ? '' : `, ${inputDim(inputs)} inputs (${prep.inputs.dropped.length} group columns left out)`;
    this.log(`run ${run.id} round 0: statistics of ${prep.rows} rows from ${gathered.reports.length} sites${widthNote}, preprocessing ${genesis.preprocessingHash!.slice(0, 12)}`);
    const proximalMu = strategy !== null && 'proximalMu' in strategy && typeof strategy.proximalMu === 'number' ? strategy.proximalMu : 0;
    const task: TaskConfig = { study, preprocessing: prep, training: config.training, proximalMu };
    if (strategy === null) {
      const failed = await this.exactRound(run, inputs, task, modelHash, configHash);
      if (failed !== null) return fail(1, failed.startedAt, failed.reason, failed.outcomes);
      this.store.endRun(run.id, 'completed');
      this.log(`run ${run.id} completed`);
      return;
    }
    let best = initialBestRound();

    for (let round = 1; round <= config.rounds; round++) {
      if (this.stopping) throw new Error('coordinator is stopping');
      if (this.store.isCancelRequested(run.id)) return this.store.endCancelledRun(run.id);
      const startedAt = new Date().toISOString();
      if (!(await this.waitForSites(config.minSites, config.waitForSitesSec * 1000))) {
        return fail(round, startedAt, `round ${round}: ${this.gateway.connectedSites().length} of the ${config.minSites} sites needed were connected after ${config.waitForSitesSec}s`, []);
      }
      const trained = await this.trainRound(run, strategy, round, weights, modelHash, task);
      if (trained.result === null) {
        return fail(round, startedAt, `round ${round}: ${phaseFailure('updates', trained.accepted, config.minSites, trained.outcomes, config.roundTimeoutSec)}`, trained.outcomes);
      }
      const next = trained.result;
      const nextHash = hashWeights(next);
      const evals = await this.evaluateRound(run, round, next, nextHash, task, trained.outcomes);
      const metrics = roundMetrics(inputs, trained.outcomes, evals);
      // Decided before the commit, so the entry itself records the best round so far and an early stop.
      const verdict = observeRound(best, round, metrics.valLoss, config.patience ?? 0);
      best = verdict.state;
      metrics.bestRound = best.bestRound!;
      if (verdict.stop !== null) metrics.stoppedEarly = 1;
      const entry = this.store.commitRound({
        runId: run.id,
        round,
        startedAt,
        modelHash: nextHash,
        weights: next,
        metrics,
        sites: trained.outcomes,
        entry: {
          parentModelHash: modelHash,
          participants: trained.outcomes
            .filter((o) => o.status === 'accepted')
            .map((o) => ({ siteId: o.siteId, numExamples: o.numExamples!, updateHash: o.updateHash!, signature: o.signature! })),
          configHash,
        },
      });
      this.gateway.broadcastLedger([entry]);
      this.onRound({ runId: run.id, round, rounds: config.rounds, entry, outcomes: trained.outcomes });
      this.log(formatRoundLine(run.id, round, config.rounds, entry, trained.outcomes.length, verdict.stop));
      this.store.setBestRound(run.id, best.bestRound!);
      if (verdict.stop !== null) {
        const reason = `stopped early after round ${round} of ${config.rounds}: ${verdict.stop}`;
        this.store.endRun(run.id, 'completed', null, reason);
        this.log(`run ${run.id} ${reason}; serving round ${best.bestRound}`);
        return;
      }
      weights = next;
      modelHash = nextHash;
    }
    this.store.endRun(run.id, 'completed');
    this.log(`run ${run.id} completed; serving round ${best.bestRound ?? 0}`);
  }

  /** An exact fit as round 1: statistics or products from the sites, the solve, evaluation, commit. */
  private async exactRound(
    run: RunRow,
    study: Study,
    task: TaskConfig,
    parentHash: string,
    configHash: string,
  ): Promise<{ startedAt: string; reason: string; outcomes: SiteOutcome[] } | null> {
    const { config } = run;
    const startedAt = new Date().toISOString();
    if (!(await this.waitForSites(config.minSites, config.waitForSitesSec * 1000))) {
      return { startedAt, reason: `round 1: ${this.gateway.connectedSites().length} of the ${config.minSites} sites needed were connected after ${config.waitForSitesSec}s`, outcomes: [] };
    }
    const width = inputDim(study);
    const selected = new Set(this.gateway.connectedSites().map((s) => s.siteId));
    const mode = config.strategyOptions.exactAlgorithm ?? exactMode(width, task.preprocessing.rows);
    const folds = isSearch(study.model.l2) ? (config.strategyOptions.folds ?? DEFAULT_FOLDS) : 1;
    // The fit's float64 frames are larger than an update of the model: let them through, no larger.
    this.gateway.expectRun({ statsReportBytes: statsReportBytes(task.study), updateFrameBytes: maxExactFrameBytes(width, task.preprocessing.rows, folds) });
    const solveStarted = performance.now();
    const io: ExactIo = {
      sendAll: (sites, frame, collector) => this.sendAll(sites, frame, collector),
      openPhase: (phase) => {
        this.exactPhase = phase;
      },
      log: (line) => this.log(`run ${run.id} exact fit: ${line}`),
    };
    const solved = await solveExact(io, run, study, task, parentHash, selected);
    if ('reason' in solved) return { startedAt, ...solved };
    const { fit, selection, outcomes } = solved;
    const rows = outcomes.reduce((s, o) => s + (o.status === 'accepted' ? o.numExamples! : 0), 0);
    this.log(`run ${run.id} exact fit (${isRegression(study) ? mode : 'newton'}) of ${width} features on ${rows} rows from ${outcomes.filter((o) => o.status === 'accepted').length} sites in ${Math.round(performance.now() - solveStarted)} ms: l2 ${fit.lambda.toPrecision(4)}${selection === null ? '' : ` chosen from ${selection.grid.length} by ${selection.folds}-fold validation`}`);
    const weights = ridgeWeights(fit);
    const modelHash = hashWeights(weights);
    const evals = await this.evaluateRound(run, 1, weights, modelHash, task, outcomes);
    const entry = this.store.commitRound({
      runId: run.id,
      round: 1,
      startedAt,
      modelHash,
      weights,
      // One round: it is the run's best.
      metrics: { ...roundMetrics(study, outcomes, evals), ...penaltyMetrics(fit, selection), bestRound: 1 },
      sites: outcomes,
      entry: {
        parentModelHash: parentHash,
        participants: outcomes
          .filter((o) => o.status === 'accepted')
          .map((o) => ({ siteId: o.siteId, numExamples: o.numExamples!, updateHash: o.updateHash!, signature: o.signature! })),
        configHash,
      },
    });
    this.gateway.broadcastLedger([entry]);
    this.onRound({ runId: run.id, round: 1, rounds: 1, entry, outcomes });
    this.log(formatRoundLine(run.id, 1, 1, entry, outcomes.length, null));
    this.store.setBestRound(run.id, 1);
    return null;
  }

  private async waitForSites(min: number, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.gateway.connectedSites().length < min) {
      if (Date.now() >= until || this.stopping) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  }

  /** Asks every connected site for the statistics of its training rows. */
  private async gatherStats(run: RunRow): Promise<{ reports: ({ siteId: string } & StatsAnswer)[]; outcomes: SiteOutcome[] }> {
    const asked = new Set(this.gateway.connectedSites().map((s) => s.siteId));
    const collector = new RoundCollector<StatsAnswer>(run.id, 0, asked, run.config.roundTimeoutSec * 1000);
    this.gathering = { study: run.config.study, collector };
    const request = JSON.stringify({ type: 'stats-request', v: PROTOCOL_VERSION, runId: run.id, study: run.config.study });
    await this.sendAll(asked, request, collector);
    await collector.done;
    this.gathering = null;
    const reports = collector
      .ok()
      .map(([siteId, answer]) => ({ siteId, ...answer }))
      .sort((a, b) => (a.siteId < b.siteId ? -1 : 1));
    const outcomes = [...asked].sort().map((siteId): SiteOutcome => {
      const a = collector.results().get(siteId);
      if (a === undefined) return { siteId, status: 'missing', code: 'E_DEADLINE', reason: 'no statistics before the deadline' };
      if (a.kind === 'ok') return { siteId, status: 'accepted', numExamples: a.value.stats.rows };
      return { siteId, status: 'failed', code: a.code, reason: a.reason };
    });
    return { reports, outcomes };
  }

  private async trainRound(
    run: RunRow,
    strategy: Strategy,
    round: number,
    weights: Weights,
    modelHash: string,
    task: TaskConfig,
  ): Promise<{ result: Weights | null; accepted: number; outcomes: SiteOutcome[] }> {
    const selected = new Set(this.gateway.connectedSites().map((s) => s.siteId));
    const ctx: RoundContext = { runId: run.id, round, globalWeights: weights, globalHash: modelHash, selected };
    const aggregator = strategy.beginRound(ctx);
    const collector = new RoundCollector<TrainReport>(run.id, round, selected, run.config.roundTimeoutSec * 1000);
    this.training = { ctx, aggregator, collector };
    const frame = encodeFrame({ v: PROTOCOL_VERSION, kind: 'train', runId: run.id, round, modelHash, config: task }, weights);
    await this.sendAll(selected, frame, collector);
    await collector.done;
    this.training = null;

    const outcomes = [...selected].sort().map((siteId): SiteOutcome => {
      const a = collector.results().get(siteId);
      if (a === undefined) return { siteId, status: 'missing', code: 'E_DEADLINE', reason: 'no update before the deadline' };
      if (a.kind === 'ok') return { siteId, status: 'accepted', ...a.value };
      const failed = a.code.startsWith('E_CSV') || a.code === 'E_TRAINING_FAILED' || a.code === 'E_DISCONNECTED';
      return { siteId, status: failed ? 'failed' : 'rejected', code: a.code, reason: a.reason };
    });
    const accepted = aggregator.accepted;
    if (accepted < run.config.minSites) return { result: null, accepted, outcomes };
    return { result: aggregator.finalize()?.weights ?? null, accepted, outcomes };
  }

  private async evaluateRound(
    run: RunRow,
    round: number,
    weights: Weights,
    modelHash: string,
    task: TaskConfig,
    outcomes: SiteOutcome[],
  ): Promise<Map<string, EvalReport>> {
    const asked = new Set(outcomes.map((o) => o.siteId).filter((s) => this.gateway.isConnected(s)));
    const collector = new RoundCollector<EvalReport>(run.id, round, asked, run.config.roundTimeoutSec * 1000);
    this.evaluating = { modelHash, collector };
    const frame = encodeFrame({ v: PROTOCOL_VERSION, kind: 'evaluate', runId: run.id, round, modelHash, config: task }, weights);
    await this.sendAll(asked, frame, collector);
    await collector.done;
    this.evaluating = null;
    const evals = new Map(collector.ok());
    for (const o of outcomes) {
      const e = evals.get(o.siteId);
      if (e !== undefined) Object.assign(o, { evalExamples: e.numExamples, evalLoss: e.loss, evalMetric: headlineMetric(run.config.study, [e.sums]) });
    }
    return evals;
  }

  private async sendAll<T>(sites: ReadonlySet<string>, frame: Buffer | string, collector: RoundCollector<T>): Promise<void> {
    await Promise.all(
      [...sites].map(async (site) => {
        if (!(await this.gateway.send(site, frame))) {
          collector.record(site, { kind: 'refused', code: 'E_DISCONNECTED', reason: 'the task could not be sent' });
        }
      }),
    );
  }

  // ---- events from the gateway (already well-formed; not yet trusted) ----

  private onUpdate(siteId: string, header: UpdateHeader, weights: Weights): void {
    const ref = { runId: header.runId, round: header.round };
    const t = this.training;
    if (t === null) {
      const code = header.runId !== this.activeRunId ? 'E_WRONG_RUN' : 'E_STALE_ROUND';
      this.gateway.sendError(siteId, code, `no round of run ${header.runId} is collecting updates`, ref);
      this.log(`refused update from ${siteId}: ${code}`);
      return;
    }
    const forThisRound = header.runId === t.ctx.runId && header.round === t.ctx.round;
    const verdict =
      hashWeights(weights) !== header.updateHash
        ? ({ accepted: false, code: 'E_HASH_MISMATCH', reason: 'updateHash does not match the update bytes' } as const)
        : t.aggregator.accept({ ...header, weights });
    if (verdict.accepted) {
      t.collector.record(siteId, {
        kind: 'ok',
        value: { numExamples: header.numExamples, updateHash: header.updateHash, trainLoss: header.trainLoss, signature: header.signature },
      });
      return;
    }
    this.log(`rejected update from ${siteId} for run ${header.runId} round ${header.round}: ${verdict.code} ${verdict.reason}`);
    this.gateway.sendError(siteId, verdict.code, verdict.reason, ref);
    // A refusal of a frame meant for this round is the site's answer; stale frames are not.
    if (forThisRound && verdict.code !== 'E_DUPLICATE_UPDATE') {
      t.collector.record(siteId, { kind: 'refused', code: verdict.code, reason: verdict.reason });
    }
  }

  private onEval(siteId: string, msg: EvalResult): void {
    const e = this.evaluating;
    if (e === null || e.collector.runId !== msg.runId || e.collector.round !== msg.round || e.modelHash !== msg.modelHash) {
      this.gateway.sendError(siteId, 'E_STALE_ROUND', 'no evaluation of that model is open', { runId: msg.runId, round: msg.round });
      return;
    }
    e.collector.record(siteId, { kind: 'ok', value: { numExamples: msg.numExamples, loss: msg.loss, sums: msg.sums, validation: msg.validation } });
  }

  private onTaskError(siteId: string, msg: TaskError): void {
    this.log(`site ${siteId} could not do run ${msg.runId} round ${msg.round}: ${msg.code} ${msg.message}`);
    for (const phase of this.collectors()) {
      if (phase.runId === msg.runId && phase.round === msg.round) phase.record(siteId, { kind: 'refused', code: msg.code, reason: msg.message });
    }
  }

  private onStats(siteId: string, msg: StatsReport): void {
    const g = this.gathering;
    if (g === null || g.collector.runId !== msg.runId) {
      this.gateway.sendError(siteId, 'E_STALE_ROUND', `no statistics of run ${msg.runId} are being gathered`, { runId: msg.runId, round: 0 });
      return;
    }
    // A site's own check should have refused; a report over fewer rows would expose a small group.
    const minRows = g.study.minRows ?? DEFAULT_MIN_ROWS;
    if (msg.stats.rows < minRows) {
      const reason = `statistics over ${msg.stats.rows} rows, the study needs at least ${minRows}: not used`;
      this.gateway.sendError(siteId, 'E_STATS_TOO_FEW_ROWS', reason, { runId: msg.runId, round: 0 });
      g.collector.record(siteId, { kind: 'refused', code: 'E_STATS_TOO_FEW_ROWS', reason });
      return;
    }
    let columns: GroupColumns;
    try {
      columns = checkSiteStats(g.study, msg.stats);
    } catch (e) {
      const reason = (e as Error).message;
      this.gateway.sendError(siteId, 'E_BAD_MESSAGE', reason, { runId: msg.runId, round: 0 });
      g.collector.record(siteId, { kind: 'refused', code: 'E_BAD_MESSAGE', reason });
      return;
    }
    g.collector.record(siteId, { kind: 'ok', value: { stats: msg.stats, signature: msg.signature, columns } });
  }
}

/** Example-weighted global losses, and metrics from the summed site sums (exact, as if pooled). */
export function roundMetrics(study: Study, outcomes: SiteOutcome[], evals: Map<string, EvalReport>): Record<string, number> {
  let trainN = 0;
  let lossN = 0;
  let trainLoss = 0;
  for (const o of outcomes) {
    if (o.status !== 'accepted') continue;
    trainN += o.numExamples!;
    // An exact fit by CG or Newton reports no per-site training loss.
    if (o.trainLoss !== undefined) {
      lossN += o.numExamples!;
      trainLoss += o.numExamples! * o.trainLoss;
    }
  }
  let evalN = 0;
  let loss = 0;
  for (const e of evals.values()) {
    evalN += e.numExamples;
    loss += e.numExamples * e.loss;
  }
  const m: Record<string, number> = {
    sites: outcomes.filter((o) => o.status === 'accepted').length,
    trainExamples: trainN,
    evalSites: evals.size,
    evalExamples: evalN,
  };
  if (lossN > 0) m.trainLoss = trainLoss / lossN;
  if (evalN > 0) {
    m.evalLoss = loss / evalN;
    const named = evalMetrics(study, [...evals.values()].map((e) => e.sums));
    Object.assign(m, named);
    m.evalMetric = named[studyMetrics(study)[0]!]!;
  }
  // The validation parts: what chooses the best round (never the held-out figures above).
  const val = [...evals.values()].flatMap((e) => (e.validation === undefined ? [] : [e.validation]));
  const valN = val.reduce((n, v) => n + v.numExamples, 0);
  if (valN > 0) {
    m.valExamples = valN;
    m.valLoss = val.reduce((s, v) => s + v.numExamples * v.loss, 0) / valN;
    const metric = headlineMetric(study, val.map((v) => v.sums));
    if (metric !== undefined) m.valMetric = metric;
  }
  return m;
}

function formatRoundLine(runId: string, round: number, rounds: number, entry: LedgerEntry, selected: number, stop: string | null): string {
  const m = entry.metrics;
  const f = (x: number | undefined, d = 4): string => (x === undefined ? '-' : x.toFixed(d));
  const val = m.valLoss === undefined ? '' : `, validation loss ${f(m.valLoss)} (best round ${m.bestRound})`;
  return `run ${runId} round ${round}/${rounds}: ${m.sites}/${selected} sites, eval loss ${f(m.evalLoss)}, metric ${f(m.evalMetric)}${val}, model ${entry.modelHash.slice(0, 12)}, ledger #${entry.index}${stop === null ? '' : `; stopping early: ${stop}`}`;
}
