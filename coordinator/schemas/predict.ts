// REST schema for a clinician's query. The record is attacker-controlled: values are bounded
// scalars, and the study decides which of them matter.

import { Type, type Static } from '@sinclair/typebox';

export const PredictBody = Type.Object(
  {
    runId: Type.Optional(Type.String({ pattern: '^run-[0-9a-f]{8}$' })),
    modelHash: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    features: Type.Record(
      Type.String({ maxLength: 128 }),
      Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean(), Type.Null()]),
      { maxProperties: 512 },
    ),
  },
  { additionalProperties: false },
);
export type PredictBody = Static<typeof PredictBody>;

export const PredictBatchBody = Type.Object(
  {
    runId: Type.Optional(Type.String({ pattern: '^run-[0-9a-f]{8}$' })),
    modelHash: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    rows: Type.Array(PredictBody.properties.features, { minItems: 1, maxItems: 10000 }),
  },
  { additionalProperties: false },
);
export type PredictBatchBody = Static<typeof PredictBatchBody>;
