// One error handler: coded JSON errors with the right status; 5xx details stay in the log.

import type { FastifyError, FastifyInstance } from 'fastify';
import { FedrxError, isFedrxError, type CodedMessage, type ErrorCode } from '../../shared/errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_BAD_REQUEST: 400,
  E_MISSING_FEATURE: 400,
  E_BAD_FEATURE: 400,
  E_BAD_COVERAGE: 400,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
  E_SESSION_EXPIRED: 401,
  E_CSRF: 403,
  E_NOT_FOUND: 404,
  E_NOT_ENDORSED: 409,
  E_RUN_FINISHED: 409,
  E_NO_MODEL: 404,
  E_LEDGER_BROKEN: 409,
  E_READ_ONLY: 503,
  E_DP_SETTINGS: 400,
  E_COMPRESSION_SETTINGS: 400,
  E_BUDGET_EXCEEDED: 409,
  // Relay steps: a task frame from the parent (attacker-controlled) that does not fit is a bad request.
  E_RELAY_SETTINGS: 400,
  E_RELAY_NOT_RELAY: 409,
  E_ROUND_FAILED: 409,
  E_DUPLICATE_UPDATE: 409,
  E_FRAME_HEADER: 400,
  E_FRAME_TRUNCATED: 400,
  E_FRAME_OVERSIZED: 400,
  E_PROTOCOL_VERSION: 400,
  E_WRONG_RUN: 400,
  E_HASH_MISMATCH: 400,
  E_SHAPE_MISMATCH: 400,
  E_NON_FINITE: 400,
  E_BUSY: 503,
};

/** What a read-only coordinator (`--read-only`, for investigating a ledger) answers to a write. */
export const readOnlyError = (what: string): FedrxError => new FedrxError('E_READ_ONLY', `coordinator is read-only (--read-only, for investigation): ${what}`);

/** A preValidation hook for a write route: refuses before the body is read when `readOnly`. */
export const refuseWhenReadOnly =
  (readOnly: boolean, what: string) =>
  async (): Promise<void> => {
    if (readOnly) throw readOnlyError(what);
  };

const errorBody = (code: ErrorCode, message: string): { error: CodedMessage } => ({ error: { code, message } });

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isFedrxError(err)) {
      const status = STATUS[err.code];
      if (status !== undefined) return reply.status(status).send({ error: err.toJSON() });
      // A coded error with no public status is a server fault: its details stay in the log.
      req.log.error(err);
      return reply.status(500).send(errorBody('E_INTERNAL', 'internal error'));
    }
    if (err.validation !== undefined) {
      return reply.status(400).send(errorBody('E_BAD_REQUEST', `${err.validationContext ?? 'request'} ${err.message.replace(/^(body|params|querystring)\s*/, '')}`));
    }
    if (typeof err.statusCode === 'number' && err.statusCode < 500) {
      return reply.status(err.statusCode).send(errorBody('E_BAD_REQUEST', err.message));
    }
    req.log.error(err);
    return reply.status(500).send(errorBody('E_INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(errorBody('E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );
}
