// GET /v1/model/form: the served model's inputs (as GET /v1/model/inputs) with the study's
// description of each, for the dashboard to build its prediction form from.

import type { FastifyInstance } from 'fastify';
import { FedrxError } from '../../../shared/errors.js';
import type { Predictor } from '../../predictor.js';
import type { Store } from '../../store/store.js';
import { formFields } from '../model-form.js';
import { ModelInputsQuery } from '../schemas/predict.js';
import { ErrorReply, ModelFormReply } from '../schemas/responses.js';

export function modelFormRoutes(app: FastifyInstance, store: Store, predictor: Predictor): void {
  app.get(
    '/v1/model/form',
    { schema: { querystring: ModelInputsQuery, response: { 200: ModelFormReply, 404: ErrorReply } }, config: { roles: ['clinician'] } },
    async (req) => {
      const inputs = predictor.inputs(req.query as ModelInputsQuery);
      const run = store.getRun(inputs.runId);
      if (run === null) throw new FedrxError('E_NOT_FOUND', `no run ${inputs.runId}`);
      const study = run.config.study;
      const target = study.target;
      return {
        ...inputs,
        study: study.name,
        target: { name: target.name, ...('unit' in target && target.unit !== undefined ? { unit: target.unit } : {}) },
        fields: formFields(study, inputs.columns),
      };
    },
  );
}
