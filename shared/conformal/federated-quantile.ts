// The coordinator's side: the sites' sketches of one model merged into the quantile that every
// prediction of that model is served with, as recorded in the model's ledger entry.

import { Type, type Static } from '@sinclair/typebox';
import { conformalRank } from './coverage.js';
import { CLASSIFICATION_LAYOUT, mergeSketches, REGRESSION_LAYOUT, sketchQuantile, type SketchLayout } from './score-sketch.js';

export const ConformalRecordSchema = Type.Object(
  {
    /** 'interval' for a regression model, 'set' for a classification model. */
    kind: Type.Union([Type.Literal('interval'), Type.Literal('set')]),
    coverage: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    /** Conservative ⌈(N+K)(1−α)⌉-th score (model space, or 1 − p̂); null when N is too small: unbounded. */
    quantile: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    calibrationRows: Type.Integer({ minimum: 0 }),
    sites: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ConformalRecord = Static<typeof ConformalRecordSchema>;

export type ConformalKind = ConformalRecord['kind'];

export const layoutOf = (kind: ConformalKind): SketchLayout => (kind === 'interval' ? REGRESSION_LAYOUT : CLASSIFICATION_LAYOUT);

/** One site's checked sketch; a region's pools `sites` of them (default 1). */
export interface SiteSketch {
  rows: number;
  counts: readonly number[];
  sites?: number;
}

/** Merged quantile over the sites that sent a sketch (K counts only those with calibration rows, a region's as many as it pools). */
export function federatedQuantile(kind: ConformalKind, coverage: number, sketches: readonly SiteSketch[]): ConformalRecord {
  const used = sketches.filter((s) => s.rows > 0);
  const rows = used.reduce((n, s) => n + s.rows, 0);
  const sites = used.reduce((n, s) => n + (s.sites ?? 1), 0);
  const layout = layoutOf(kind);
  const rank = conformalRank(rows, sites, coverage);
  const q = sketchQuantile(layout, mergeSketches(layout, used.map((s) => s.counts)), rank);
  return { kind, coverage, quantile: Number.isFinite(q) ? q : null, calibrationRows: rows, sites };
}
