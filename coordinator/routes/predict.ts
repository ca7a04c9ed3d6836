import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit-log.js';
import { principalOf } from '../auth.js';
import type { Predictor } from '../predictor.js';
import { PredictBatchBody, PredictBody } from '../schemas/predict.js';

// Each answered request leaves one audit row, written after the prediction and before the answer:
// if the row cannot be written, the clinician gets an error, never an unaudited prediction.
export function predictRoutes(app: FastifyInstance, predictor: Predictor, audit: AuditLog): void {
  app.post(
    '/v1/predict',
    { schema: { body: PredictBody }, config: { roles: ['clinician'] }, preValidation: async (req) => keepAsSent(req, 'features') },
    async (req) => {
      const body = req.body as PredictBody;
      const res = predictor.predict(body);
      audit.record(principalOf(req), { route: '/v1/predict', ...provenance(res), rows: 1, input: asSent.get(req) ?? body.features });
      return res;
    },
  );

  app.post(
    '/v1/predict/batch',
    { schema: { body: PredictBatchBody }, config: { roles: ['clinician'] }, preValidation: async (req) => keepAsSent(req, 'rows') },
    async (req) => {
      const body = req.body as PredictBatchBody;
      const res = predictor.predictMany(body);
      audit.record(principalOf(req), { route: '/v1/predict/batch', ...provenance(res), rows: body.rows.length, input: asSent.get(req) ?? body.rows });
      return res;
    },
  );
}

// Validation coerces values in place (4 → "4", null → ""), but the audit hash must be reproducible
// from the request as the clinician sent it: keep shallow copies of the records beforehand. The
// body is attacker-controlled and not yet validated here, so copy only what has the right shape.
const asSent = new WeakMap<FastifyRequest, unknown>();
const MAX_ROWS = 10_000;

function keepAsSent(req: FastifyRequest, field: 'features' | 'rows'): void {
  const body = req.body;
  if (typeof body !== 'object' || body === null || !(field in body)) return;
  const value: unknown = (body as Record<string, unknown>)[field];
  if (field === 'features') asSent.set(req, copyRecord(value));
  else if (Array.isArray(value) && value.length <= MAX_ROWS) asSent.set(req, value.map(copyRecord));
}

const copyRecord = (v: unknown): unknown => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v } : v);

const provenance = (p: { runId: string; round: number; modelHash: string; ledgerIndex: number }) => ({
  runId: p.runId,
  round: p.round,
  modelHash: p.modelHash,
  ledgerIndex: p.ledgerIndex,
});
