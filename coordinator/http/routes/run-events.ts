// GET /v1/runs/:id/events: server-sent events of one run, pushed as the run loop commits rounds
// (`round`), moves through a round (`step`) and ends (`end`, after which the stream closes). The
// first event, `run`, is the run's status when the stream opened; a page reads the rounds
// before that from GET /v1/runs/:id.

import type { FastifyInstance } from 'fastify';
import { FedrxError } from '../../../shared/errors.js';
import type { Store } from '../../store/store.js';
import type { RunEvent, RunEvents } from '../run-events.js';
import { RunIdParams } from '../schemas/runs.js';

/** A comment line now and then keeps proxies and idle timers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

export function runEventRoutes(app: FastifyInstance, store: Store, events: RunEvents): void {
  app.get(
    '/v1/runs/:id/events',
    { schema: { params: RunIdParams, produces: ['text/event-stream'] }, config: { roles: ['data-scientist', 'admin', 'auditor'] } },
    async (req, reply) => {
      const { id } = req.params as RunIdParams;
      const run = store.getRun(id);
      if (run === null) throw new FedrxError('E_NOT_FOUND', `no run ${id}`);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        connection: 'keep-alive',
      });
      const send = (type: string, data: unknown): void => {
        res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const status = (): unknown => {
        const r = store.getRun(id);
        return { runId: id, status: r?.status, bestRound: r?.bestRound, error: r?.error, stopReason: r?.stopReason };
      };
      send('run', status());
      if (FINISHED.has(run.status)) {
        res.end();
        return;
      }
      const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
      const stop = events.subscribe(id, (e: RunEvent) => {
        if (e.type === 'end') {
          send('end', status());
          close();
        } else send(e.type, e);
      });
      const close = (): void => {
        clearInterval(keepalive);
        stop();
        res.end();
      };
      req.raw.on('close', close);
    },
  );
}
