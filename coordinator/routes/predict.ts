import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FedrxError } from '../../shared/errors.js';
import type { AuditLog } from '../audit-log.js';
import { principalOf } from '../auth.js';
import type { Predictor } from '../predictor.js';
import { MAX_BATCH_ROWS, ModelInputsQuery, PredictBatchBody, PredictBody, PredictTableBody } from '../schemas/predict.js';

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

  // The compact form for wide rows: column names once, each row an array in that order.
  app.post(
    '/v1/predict/table',
    { schema: { body: PredictTableBody }, config: { roles: ['clinician'] }, preValidation: async (req) => refuseCoercibleTable(req) },
    async (req) => {
      const body = req.body as PredictTableBody;
      const res = predictor.predictTable(body);
      audit.record(principalOf(req), { route: '/v1/predict/table', ...provenance(res), rows: body.rows.length, input: { columns: body.columns, rows: body.rows } });
      return res;
    },
  );

  // What to send: the served model's input columns (a client sends these and nothing else).
  app.get('/v1/model/inputs', { schema: { querystring: ModelInputsQuery }, config: { roles: ['clinician'] } }, async (req) =>
    predictor.inputs(req.query as ModelInputsQuery),
  );
}

// Validation coerces values in place (4 → "4", null → ""), but the audit hash must be reproducible
// from the request as the clinician sent it: keep shallow copies of the records beforehand. The
// body is attacker-controlled and not yet validated here, so copy only what has the right shape.
const asSent = new WeakMap<FastifyRequest, unknown>();

function keepAsSent(req: FastifyRequest, field: 'features' | 'rows'): void {
  const body = req.body;
  if (typeof body !== 'object' || body === null || !(field in body)) return;
  const value: unknown = (body as Record<string, unknown>)[field];
  if (field === 'features') asSent.set(req, copyRecord(value));
  else if (Array.isArray(value) && value.length <= MAX_BATCH_ROWS) asSent.set(req, value.map(copyRecord));
}

/**
 * A table is hashed for the audit as validated, so nothing may be coerced: ajv would turn a
 * number among the column names into text, or a lone cell into a row. Such a table is refused
 * instead (checking the shapes is cheap; copying 50,000 cells per row to keep them is not).
 */
function refuseCoercibleTable(req: FastifyRequest): void {
  const body = req.body;
  if (typeof body !== 'object' || body === null) return;
  const { columns, rows } = body as Record<string, unknown>;
  const ok = (Array.isArray(columns) ? columns.every((c) => typeof c === 'string') : columns === undefined) && (Array.isArray(rows) ? rows.every(Array.isArray) : rows === undefined);
  if (!ok) throw new FedrxError('E_BAD_REQUEST', 'body/columns must be an array of strings and body/rows an array of arrays');
}

const copyRecord = (v: unknown): unknown => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v } : v);

const provenance = (p: { runId: string; round: number; modelHash: string; ledgerIndex: number }) => ({
  runId: p.runId,
  round: p.round,
  modelHash: p.modelHash,
  ledgerIndex: p.ledgerIndex,
});
