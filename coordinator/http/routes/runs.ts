import type { FastifyInstance } from 'fastify';
import { FedrxError } from '../../../shared/errors.js';
import { refuseWhenReadOnly } from '../http-errors.js';
import { hashConfig } from '../../../shared/ledger.js';
import { studyMetrics, type Study } from '../../../shared/study.js';
import { buildRunConfig } from '../run-config.js';
import { refuseOverBudget, registeredSiteCount } from '../../privacy/run-admission.js';
import type { RunQueue } from '../../rounds/run-queue.js';
import { CreateRunBody, RunIdParams } from '../schemas/runs.js';
import { RunListQuery } from '../schemas/run-list.js';
import { ErrorReply, RunListReply, RunReply } from '../schemas/responses.js';
import type { RunRow, Store } from '../../store/store.js';
import { principalName } from '../../trust/token-store.js';

/** How the headline metric reads in a table, e.g. "MAE (mg/week)". */
function headlineLabel(study: Study): string {
  const first = studyMetrics(study)[0]!;
  const unit = 'unit' in study.target && study.target.unit !== undefined && (first === 'mae' || first === 'rmse') ? ` (${study.target.unit})` : '';
  return `${first === 'pw20' ? 'PW20 %' : first === 'r2' ? 'R²' : first.toUpperCase()}${unit}`;
}

export function runView(store: Store, run: RunRow): Record<string, unknown> {
  const { study, ...settings } = run.config;
  return {
    id: run.id,
    status: run.status,
    error: run.error,
    bestRound: run.bestRound,
    stopReason: run.stopReason,
    cancelRequestedAt: run.cancelRequestedAt,
    cancelRequestedBy: run.cancelRequestedBy,
    study: study.name,
    metric: headlineLabel(study),
    config: settings,
    configHash: run.configHash,
    preprocessing: run.preprocessing,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    rounds: store.rounds(run.id),
  };
}

export type RunSummary = ReturnType<typeof runSummary>;

/** `runner` null: a read-only coordinator, which shows its runs but starts none. */
export function runRoutes(app: FastifyInstance, store: Store, runner: RunQueue | null): void {
  // Checked before the body, so a read-only coordinator answers E_READ_ONLY whatever is sent.
  const writable = refuseWhenReadOnly(runner === null, 'runs cannot be started');
  app.post('/v1/runs', { schema: { body: CreateRunBody, response: { 201: RunReply, 400: ErrorReply } }, preValidation: writable, config: { roles: ['data-scientist'] } }, async (req, reply) => {
    const config = buildRunConfig(req.body as CreateRunBody, registeredSiteCount(store));
    refuseOverBudget(store, config);
    const run = store.createRun(config, hashConfig(config));
    runner!.kick();
    return reply.status(201).send(runView(store, run));
  });

  app.get('/v1/runs', { schema: { querystring: RunListQuery, response: { 200: RunListReply } }, config: { roles: ['data-scientist', 'admin', 'auditor'] } }, async (req) => ({
    runs: store.listRuns((req.query as RunListQuery).limit).map(runSummary),
  }));

  app.get('/v1/runs/:id', { schema: { params: RunIdParams, response: { 200: RunReply, 404: ErrorReply } }, config: { roles: ['data-scientist', 'admin', 'auditor'] } }, async (req) => {
    const { id } = req.params as RunIdParams;
    const run = store.getRun(id);
    if (run === null) throw new FedrxError('E_NOT_FOUND', `no run ${id}`);
    return runView(store, run);
  });

  // A queued run is cancelled at once (200); a running one is asked to stop (202): its open phase
  // closes and it ends 'cancelled' without committing the round in flight; a finished one is 409 E_RUN_FINISHED.
  const cancellable = refuseWhenReadOnly(runner === null, 'runs cannot be cancelled');
  app.post('/v1/runs/:id/cancel', { schema: { params: RunIdParams, response: { 200: RunReply, 202: RunReply, 409: ErrorReply } }, preValidation: cancellable, config: { roles: ['data-scientist', 'admin'] } }, async (req, reply) => {
    const { id } = req.params as RunIdParams;
    const p = req.principal!;
    const outcome = store.cancelRun(id, principalName(p));
    const run = store.getRun(id);
    if (outcome === 'unknown' || run === null) throw new FedrxError('E_NOT_FOUND', `no run ${id}`);
    if (outcome === 'finished') throw new FedrxError('E_RUN_FINISHED', `run ${id} has already ended (${run.status}): nothing to cancel`, { status: run.status });
    if (outcome === 'requested') runner!.cancel(id);
    // A relay run cancelled before it started: the steps waiting for it are refused now.
    if (outcome === 'cancelled') runner!.relays.close(id, new FedrxError('E_RUN_FINISHED', `run ${id} was cancelled before it started: it takes no steps`));
    return reply.status(outcome === 'cancelled' ? 200 : 202).send(runView(store, run));
  });
}

/** One line of `fedrx run list`. */
function runSummary(r: RunRow & { roundsDone: number }) {
  return {
    id: r.id,
    status: r.status,
    study: r.config.study.name,
    strategy: r.config.strategy,
    roundsDone: r.roundsDone,
    roundsPlanned: r.config.rounds,
    bestRound: r.bestRound,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    error: r.error,
    stopReason: r.stopReason,
    cancelRequestedAt: r.cancelRequestedAt,
    cancelRequestedBy: r.cancelRequestedBy,
  };
}
