// What the dashboard's prediction form shows for each input column of the served model: the
// study's own description of it (kind, unit, valid range, levels, whether it may be left empty),
// so that a value the coordinator would refuse is caught in the browser first. Pure.

import { featureColumns, type Feature, type Study } from '../../shared/study.js';

export interface FormField {
  column: string;
  /** The study feature this column feeds. */
  feature: string;
  kind: Feature['kind'];
  unit?: string;
  min?: number;
  max?: number;
  /** Allowed values: a categorical or genotype feature's levels, a binary feature's 1/0. */
  levels?: string[];
  /** Coded cells a numeric feature also reads (e.g. age bands). */
  codes?: string[];
  /** False when the study imputes an empty value (or the column only helps impute another). */
  required: boolean;
  /** Set for a column that only stands in for another feature's missing value. */
  imputes?: string;
}

/** Wider models (feature groups of thousands of columns) are scored from a CSV, not typed in. */
export const MAX_FORM_FIELDS = 200;

function describe(f: Feature, column: string): FormField {
  const base = { column, feature: f.name, kind: f.kind };
  switch (f.kind) {
    case 'numeric':
      return {
        ...base,
        ...(f.unit === undefined ? {} : { unit: f.unit }),
        ...(f.min === undefined ? {} : { min: f.min }),
        ...(f.max === undefined ? {} : { max: f.max }),
        ...(f.map === undefined ? {} : { codes: Object.keys(f.map) }),
        required: f.missing !== 'mean',
      };
    case 'categorical':
      return { ...base, levels: [...f.levels], required: f.missingLevel === undefined };
    case 'genotype':
      // A missing call becomes the unknown level, so the field may stay empty.
      return { ...base, levels: f.levels.filter((l) => l !== f.unknownLevel), required: false };
    case 'binary':
      return { ...base, levels: ['1', '0'], required: f.missing !== 'false' };
  }
}

/** One field per input column, in the model's column order; null when there are too many to type. */
export function formFields(study: Study, columns: readonly string[]): FormField[] | null {
  if (columns.length > MAX_FORM_FIELDS) return null;
  const primary = new Map<string, Feature>();
  const linked = new Map<string, Feature>();
  for (const f of study.features) {
    const [own, ...rest] = f.kind === 'binary' ? [] : featureColumns(f);
    if (f.kind === 'binary') for (const c of featureColumns(f)) primary.set(c, f);
    else {
      primary.set(own!, f);
      for (const c of rest) linked.set(c, f);
    }
  }
  return columns.map((column) => {
    const f = primary.get(column);
    if (f !== undefined) return describe(f, column);
    const helped = linked.get(column);
    if (helped !== undefined) return { column, feature: helped.name, kind: 'categorical', required: false, imputes: helped.name };
    // A column matched by a feature group: numeric or binary as the group says; shown plainly.
    return { column, feature: column, kind: 'numeric', required: true };
  });
}
