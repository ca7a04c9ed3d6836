// What a ledger entry of a differentially private round records: the mechanism and its parameters,
// and the ε spent so far by the run and by each participating site across all runs on its data.
// Anyone holding the chain can recompute every figure (privacy-from-chain.ts).

import { Type, type Static } from '@sinclair/typebox';

const Positive = Type.Number({ exclusiveMinimum: 0 });
const Epsilon = Type.Number({ minimum: 0 });

export const EntryPrivacySchema = Type.Object(
  {
    /** 'gaussian-sum': the coordinator adds N(0, (Z·C)²) to the sum of clipped changes. */
    mechanism: Type.Union([Type.Literal('gaussian-sum'), Type.Literal('distributed-gaussian')]),
    /** Z as the run asked for it. */
    noiseMultiplier: Positive,
    /** σ the sum actually carried (noise std / C): Z, or less when distributed shares went missing. */
    sigma: Positive,
    clip: Positive,
    delta: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    /** q = selected sites / registered sites. */
    samplingRate: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    /** ε of the run's rounds so far, this one included, at the run's δ. */
    runEpsilon: Epsilon,
    /** Each participant's ε over every private round of every run it took part in, at this run's δ. */
    siteEpsilon: Type.Array(Type.Object({ siteId: Type.String({ minLength: 1, maxLength: 128 }), epsilon: Epsilon }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type EntryPrivacy = Static<typeof EntryPrivacySchema>;
