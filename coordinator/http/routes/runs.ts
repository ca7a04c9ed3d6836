import type { FastifyInstance } from 'fastify';
import { FedrxError } from '../../../shared/errors.js';
import { refuseWhenReadOnly } from '../http-errors.js';
import { hashConfig } from '../../../shared/ledger.js';
import { studyMetrics, type Study } from '../../../shared/study.js';
import { buildRunConfig } from '../run-config.js';
import type { RunQueue } from '../../rounds/run-queue.js';
import { CreateRunBody, RunIdParams } from '../schemas/runs.js';
import type { RunRow, Store } from '../../store/store.js';

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

/** `runner` null: a read-only coordinator, which shows its runs but starts none. */
export function runRoutes(app: FastifyInstance, store: Store, runner: RunQueue | null): void {
  // Checked before the body, so a read-only coordinator answers E_READ_ONLY whatever is sent.
  const writable = refuseWhenReadOnly(runner === null, 'runs cannot be started');
  app.post('/v1/runs', { schema: { body: CreateRunBody }, preValidation: writable, config: { roles: ['data-scientist'] } }, async (req, reply) => {
    const config = buildRunConfig(req.body as CreateRunBody);
    const run = store.createRun(config, hashConfig(config));
    runner!.kick();
    return reply.status(201).send(runView(store, run));
  });

  app.get('/v1/runs', { config: { roles: ['data-scientist', 'auditor'] } }, async () => ({
    runs: store.listRuns().map((r) => ({ id: r.id, status: r.status, createdAt: r.createdAt, error: r.error, bestRound: r.bestRound, stopReason: r.stopReason })),
  }));

  app.get('/v1/runs/:id', { schema: { params: RunIdParams }, config: { roles: ['data-scientist', 'auditor'] } }, async (req) => {
    const { id } = req.params as RunIdParams;
    const run = store.getRun(id);
    if (run === null) throw new FedrxError('E_NOT_FOUND', `no run ${id}`);
    return runView(store, run);
  });
}
