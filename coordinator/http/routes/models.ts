import type { FastifyInstance } from 'fastify';
import { modelCard } from '../../model-card.js';
import type { Store } from '../../store/store.js';
import { ModelCardParams, ModelCardResponse } from '../schemas/model-card.js';

/** Model cards: for those who ask a model for predictions and those who audit where it came from. */
export function modelRoutes(app: FastifyInstance, store: Store): void {
  app.get(
    '/v1/models/:modelHash/card',
    { schema: { params: ModelCardParams, response: { 200: ModelCardResponse } }, config: { roles: ['clinician', 'auditor'] } },
    async (req) => modelCard(store, (req.params as ModelCardParams).modelHash),
  );
}
