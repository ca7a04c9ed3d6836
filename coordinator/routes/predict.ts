import type { FastifyInstance } from 'fastify';
import type { Predictor } from '../predictor.js';
import { PredictBody } from '../schemas/predict.js';

export function predictRoutes(app: FastifyInstance, predictor: Predictor): void {
  app.post('/v1/predict', { schema: { body: PredictBody } }, async (req) => predictor.predict(req.body as PredictBody));
}
