import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FedrxError } from '../../../shared/errors.js';
import type { AuditLog } from '../../trust/audit-log.js';
import { principalOf } from '../../trust/auth.js';
import type { Predictor } from '../../predictor.js';
import { BatchPredictionResponse, ModelInputsQuery, PredictBatchBody, PredictBody, PredictionResponse, PredictTableBody } from '../schemas/predict.js';
import { ErrorReply, ModelInputsReply } from '../schemas/responses.js';

// Each answered request leaves one audit row, written after the prediction and before the answer:
// if the row cannot be written, the clinician gets an error, never an unaudited prediction.
export function predictRoutes(app: FastifyInstance, predictor: Predictor, audit: AuditLog): void {
  /** A clinician's POST: checked, answered, then audited with the input as sent and its row count. */
  function answer<B>(
    url: string,
    schema: TSchema,
    reply: TSchema,
    shape: Shape,
    run: (body: B) => Provenance,
    input: (body: B) => { rows: number; input: unknown },
  ): void {
    app.post(url, { schema: { body: schema, response: { 200: reply, 400: ErrorReply } }, config: { roles: ['clinician'] }, preValidation: async (req) => refuseCoercible(req, shape) }, async (req) => {
      const body = req.body as B;
      const res = run(body);
      // The clinician sees the audit row of the answer it got (its number, time and input hash).
      const row = audit.record(principalOf(req), { route: url, ...provenance(res), ...input(body) });
      return { ...res, audit: row };
    });
  }

  answer<PredictBody>('/v1/predict', PredictBody, PredictionResponse, 'features', (b) => predictor.predict(b), (b) => ({ rows: 1, input: b.features }));
  answer<PredictBatchBody>('/v1/predict/batch', PredictBatchBody, BatchPredictionResponse, 'rows', (b) => predictor.predictMany(b), (b) => ({ rows: b.rows.length, input: b.rows }));
  // The compact form for wide rows: column names once, each row an array in that order.
  answer<PredictTableBody>('/v1/predict/table', PredictTableBody, BatchPredictionResponse, 'table', (b) => predictor.predictTable(b), (b) => ({
    rows: b.rows.length,
    input: { columns: b.columns, rows: b.rows },
  }));

  // What to send: the served model's input columns (a client sends these and nothing else).
  app.get('/v1/model/inputs', { schema: { querystring: ModelInputsQuery, response: { 200: ModelInputsReply } }, config: { roles: ['clinician'] } }, async (req) =>
    predictor.inputs(req.query as ModelInputsQuery),
  );
}

type Provenance = { runId: string; round: number; modelHash: string; ledgerIndex: number };
type Shape = 'features' | 'rows' | 'table';

// The audit hash must be over the request as the clinician sent it, but ajv coerces in place: a
// lone value where a list is expected becomes a list of one, a number where text is expected
// becomes text, a one-element list where a cell is expected becomes the cell. So the places that
// could be coerced are checked before validation, and such a body is refused rather than copied
// (copying 50,000 cells per row costs more than scoring them). The body is attacker-controlled:
// these checks only read it; the schema then bounds it.
const scalar = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const listOf = (v: unknown, each: (x: unknown) => boolean): boolean => v === undefined || (Array.isArray(v) && v.every(each));
/** Objects must hold scalars only; anything else is left for the schema to refuse. */
const record = (v: unknown): boolean => typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).every(scalar);

function refuseCoercible(req: FastifyRequest, shape: Shape): void {
  const body = req.body;
  if (typeof body !== 'object' || body === null) return;
  const { features, columns, rows } = body as Record<string, unknown>;
  const ok =
    shape === 'features'
      ? record(features)
      : shape === 'rows'
        ? listOf(rows, record)
        : listOf(columns, (c) => typeof c === 'string') && listOf(rows, (r) => listOf(r, scalar) && r !== undefined);
  if (!ok) throw new FedrxError('E_BAD_REQUEST', `body/${shape === 'table' ? 'columns or body/rows' : shape} holds a value of the wrong kind (cells are text, numbers, booleans or null)`);
}

const provenance = (p: Provenance) => ({
  runId: p.runId,
  round: p.round,
  modelHash: p.modelHash,
  ledgerIndex: p.ledgerIndex,
});
