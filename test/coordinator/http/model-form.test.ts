// The prediction form's fields from a study, by hand: numeric fields with unit and range (and
// whether the study imputes them), levels for categorical, genotype and binary fields, columns
// that only help impute another, and no form for a model too wide to type in.

import { describe, expect, it } from 'vitest';
import { formFields, MAX_FORM_FIELDS } from '../../../coordinator/http/model-form.js';
import type { Study } from '../../../shared/study.js';

const STUDY: Study = {
  name: 'form',
  task: 'regression',
  features: [
    { kind: 'numeric', name: 'age', column: 'Age', unit: 'years', min: 18, max: 100, missing: 'mean' },
    { kind: 'numeric', name: 'band', map: { '60 - 69': 6 } },
    { kind: 'categorical', name: 'sex', levels: ['F', 'M'] },
    { kind: 'categorical', name: 'race', levels: ['White', 'Asian', 'unknown'], missingLevel: 'unknown' },
    { kind: 'genotype', name: 'vkorc1', gene: 'VKORC1', encoding: 'genotype', levels: ['G/G', 'A/G', 'A/A', 'unknown'], unknownLevel: 'unknown', imputeFrom: [{ column: 'rs9934438', map: { 'C/C': 'G/G' } }] },
    { kind: 'binary', name: 'inducer', columns: ['Rifampin', 'Phenytoin'], missing: 'false' },
    { kind: 'binary', name: 'amiodarone' },
  ],
  target: { name: 'dose', unit: 'mg/week', transform: 'identity', min: 0, max: 400 },
  model: { type: 'linear' },
  holdout: { fraction: 0.2, seed: 1 },
};

describe('formFields', () => {
  it('describes each input column from the feature that reads it, in the given order', () => {
    const columns = ['Age', 'band', 'sex', 'race', 'vkorc1', 'rs9934438', 'Rifampin', 'Phenytoin', 'amiodarone'];
    expect(formFields(STUDY, columns)).toEqual([
      { column: 'Age', feature: 'age', kind: 'numeric', unit: 'years', min: 18, max: 100, required: false },
      { column: 'band', feature: 'band', kind: 'numeric', codes: ['60 - 69'], required: true },
      { column: 'sex', feature: 'sex', kind: 'categorical', levels: ['F', 'M'], required: true },
      { column: 'race', feature: 'race', kind: 'categorical', levels: ['White', 'Asian', 'unknown'], required: false },
      { column: 'vkorc1', feature: 'vkorc1', kind: 'genotype', levels: ['G/G', 'A/G', 'A/A'], required: false },
      { column: 'rs9934438', feature: 'vkorc1', kind: 'categorical', required: false, imputes: 'vkorc1' },
      { column: 'Rifampin', feature: 'inducer', kind: 'binary', levels: ['1', '0'], required: false },
      { column: 'Phenytoin', feature: 'inducer', kind: 'binary', levels: ['1', '0'], required: false },
      { column: 'amiodarone', feature: 'amiodarone', kind: 'binary', levels: ['1', '0'], required: true },
    ]);
  });

  it('shows a column a feature group matched as a plain required number', () => {
    expect(formFields(STUDY, ['expr_TP53'])).toEqual([{ column: 'expr_TP53', feature: 'expr_TP53', kind: 'numeric', required: true }]);
  });

  it('offers no form for a model wider than a person types in', () => {
    const wide = Array.from({ length: MAX_FORM_FIELDS + 1 }, (_, i) => `expr_${i}`);
    expect(formFields(STUDY, wide)).toBeNull();
    expect(formFields(STUDY, wide.slice(1))).toHaveLength(MAX_FORM_FIELDS);
  });
});
