// The exact penalised fit: ridge or L2-penalised logistic regression on the pooled training rows,
// from the sites' sufficient statistics in one round, the penalty chosen among a grid by federated
// k-fold validation. Not iterative: the round runner fits it itself (coordinator/rounds/exact/,
// shared/exact/); this module only describes it and its options.

import { Type } from '@sinclair/typebox';
import { MAX_FOLDS } from '../../shared/run-config.js';
import type { ExactStrategyDescriptor } from './descriptor.js';

const options = Type.Object(
  {
    folds: Type.Optional(
      Type.Integer({ minimum: 2, maximum: MAX_FOLDS, default: 5, description: "validation folds within each site's training rows, when a penalty grid or auto is searched" }),
    ),
    exactAlgorithm: Type.Optional(
      Type.Union([Type.Literal('factors'), Type.Literal('products')], {
        description: 'ridge from factored statistics, or from conjugate-gradient products (wide studies), instead of the choice by width',
      }),
    ),
  },
  { additionalProperties: false },
);

export const exact: ExactStrategyDescriptor<'exact', typeof options.properties> = {
  name: 'exact',
  kind: 'exact',
  summary: "the pooled rows' exact ridge or logistic fit from the sites' sufficient statistics, one round; the penalty chosen by federated k-fold",
  options,
};

/** Folds of a penalty search when the run does not say (the schema's default). */
export const DEFAULT_FOLDS: number = options.properties.folds.default as number;
