import type { FastifyInstance } from 'fastify';
import type { Predictor } from '../predictor.js';
import { PredictBatchBody, PredictBody } from '../schemas/predict.js';

export function predictRoutes(app: FastifyInstance, predictor: Predictor): void {
  app.post('/v1/predict', { schema: { body: PredictBody } }, async (req) => predictor.predict(req.body as PredictBody));
  app.post('/v1/predict/batch', { schema: { body: PredictBatchBody } }, async (req) => predictor.predictMany(req.body as PredictBatchBody));
}
