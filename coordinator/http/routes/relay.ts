// The steps of a relay run (coordinator/rounds/relay-run.ts): its parent, through the regional
// agent, posts statistics, train, evaluate and end; each request is answered once the relay loop
// has run its step, which may take as long as a round. Train and evaluate take a task frame as the
// coordinator sends its sites (octet-stream, as large as the gateway lets a model frame be).

import type { FastifyInstance } from 'fastify';
import { FedrxError } from '../../../shared/errors.js';
import { RelayEvaluationSchema, RelayStatisticsSchema } from '../../../shared/relay-wire.js';
import { isFinished } from '../../store/run-status.js';
import type { RunRow, Store } from '../../store/store.js';
import type { RunQueue } from '../../rounds/run-queue.js';
import { relayTask } from '../../rounds/relay-task.js';
import { refuseWhenReadOnly } from '../http-errors.js';
import { RunIdParams } from '../schemas/runs.js';
import { ErrorReply, RunReply } from '../schemas/responses.js';
import { runView } from './runs.js';

const ROLES = { roles: ['data-scientist'] as const };
const ERRORS = { 400: ErrorReply, 404: ErrorReply, 409: ErrorReply, 503: ErrorReply };

/** `maxFrameBytes`: the gateway's cap on a frame, which a task frame posted here may reach. */
export function relayRoutes(app: FastifyInstance, store: Store, runner: RunQueue | null, maxFrameBytes: number): void {
  const writable = refuseWhenReadOnly(runner === null, 'relay runs take no steps');

  /** The relay run a step is posted to, refused when it is not one or has ended. */
  const relayRun = (id: string): RunRow => {
    const run = store.getRun(id);
    if (run === null) throw new FedrxError('E_NOT_FOUND', `no run ${id}`);
    if (run.config.relay === undefined) throw new FedrxError('E_RELAY_NOT_RELAY', `run ${id} is not a relay run: it runs its own rounds`);
    if (isFinished(run.status)) throw new FedrxError('E_RUN_FINISHED', `run ${id} has already ended (${run.status}): it takes no more steps`, { status: run.status });
    return run;
  };

  app.post(
    '/v1/runs/:id/relay/statistics',
    { schema: { params: RunIdParams, body: { type: 'object', additionalProperties: false }, response: { 200: RelayStatisticsSchema, ...ERRORS } }, preValidation: writable, config: ROLES },
    async (req) => {
      const run = relayRun((req.params as RunIdParams).id);
      return runner!.relays.post(run.id, { kind: 'statistics' });
    },
  );

  app.post('/v1/runs/:id/relay/end', { schema: { params: RunIdParams, response: { 200: RunReply, ...ERRORS } }, preValidation: writable, config: ROLES }, async (req) => {
    const run = relayRun((req.params as RunIdParams).id);
    await runner!.relays.post(run.id, { kind: 'end' });
    return runView(store, store.getRun(run.id)!);
  });

  // Task frames are binary: the octet-stream parser and its body limit apply to these two routes only.
  void app.register(async (frames) => {
    frames.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxFrameBytes }, (_req, body, done) => done(null, body));
    const options = { schema: { params: RunIdParams, consumes: ['application/octet-stream'], response: ERRORS }, bodyLimit: maxFrameBytes, preValidation: writable, config: ROLES };
    // The frame is attacker-controlled: decoded and checked (relay-task.ts) before the relay loop sees it.
    const relayUpdate = {
      description: "a relay-update frame: its header is RelayUpdateHeaderSchema (shared/relay-wire.ts), its tensors the region's aggregate",
      content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
    };
    frames.post('/v1/runs/:id/relay/train', { ...options, schema: { ...options.schema, response: { 200: relayUpdate, ...ERRORS } } }, async (req, reply) => {
      const run = relayRun((req.params as RunIdParams).id);
      const frame = await runner!.relays.post(run.id, { kind: 'train', task: relayTask({ id: run.id, study: run.config.study }, 'train', req.body) });
      return reply.type('application/octet-stream').send(frame);
    });
    frames.post(
      '/v1/runs/:id/relay/evaluate',
      { ...options, schema: { ...options.schema, response: { 200: RelayEvaluationSchema, ...ERRORS } } },
      async (req) => {
        const run = relayRun((req.params as RunIdParams).id);
        return runner!.relays.post(run.id, { kind: 'evaluate', task: relayTask({ id: run.id, study: run.config.study }, 'evaluate', req.body) });
      },
    );
  });
}
