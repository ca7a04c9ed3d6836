// Turns one record in the study's column names into model inputs and back-transforms outputs.
// Used by every site on its own rows and by the coordinator on a clinician's query, so both
// apply exactly the same preprocessing. Pure: no I/O, and errors never echo a value.

import { FedrxError } from './errors.js';
import { isRegression, type ClassificationTarget, type Feature, type RegressionTarget, type Study } from './study.js';

export type RawValue = string | number | boolean | null | undefined;
export type RawRecord = Record<string, RawValue>;

function isMissing(v: RawValue): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (typeof v === 'number' && Number.isNaN(v));
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Plain decimal numbers only: no hex, no booleans, no 'Infinity'. */
function asNumber(v: RawValue): number {
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  return DECIMAL.test(s) ? Number(s) : Number.NaN;
}

/** Why a record cannot be encoded: which column, and what kind of problem (never the value). */
export class EncodeProblem {
  constructor(
    readonly column: string,
    readonly kind: 'missing' | 'not-a-number' | 'out-of-range' | 'unknown-level',
  ) {}
  describe(): string {
    return `column "${this.column}": ${this.kind.replace(/-/g, ' ')}`;
  }
}

/** Writes the inputs of `feature` into `out` from `offset`; returns the next offset or a problem. */
function encodeFeature(feature: Feature, value: RawValue, out: Float32Array, offset: number): number | EncodeProblem {
  if (feature.kind === 'numeric') {
    if (isMissing(value)) {
      if (feature.missing === 'center') {
        out[offset] = 0;
        return offset + 1;
      }
      return new EncodeProblem(feature.name, 'missing');
    }
    const x = asNumber(value);
    if (!Number.isFinite(x)) return new EncodeProblem(feature.name, 'not-a-number');
    if (x < feature.min || x > feature.max) return new EncodeProblem(feature.name, 'out-of-range');
    out[offset] = (x - feature.center) / feature.scale;
    return offset + 1;
  }
  let level: string;
  if (isMissing(value)) {
    if (feature.missingLevel === undefined) return new EncodeProblem(feature.name, 'missing');
    level = feature.missingLevel;
  } else {
    level = String(value).trim();
  }
  const at = feature.levels.indexOf(level);
  if (at < 0) return new EncodeProblem(feature.name, 'unknown-level');
  for (let j = 1; j < feature.levels.length; j++) out[offset + j - 1] = j === at ? 1 : 0;
  return offset + feature.levels.length - 1;
}

/** Model inputs for one record, or the first problem found. */
export function encodeFeatures(study: Study, record: RawRecord, width: number): Float32Array | EncodeProblem {
  const out = new Float32Array(width);
  let offset = 0;
  for (const f of study.features) {
    const next = encodeFeature(f, record[f.name], out, offset);
    if (next instanceof EncodeProblem) return next;
    offset = next;
  }
  if (offset !== width) throw new FedrxError('E_INTERNAL', `study encodes ${offset} inputs, caller expected ${width}`);
  return out;
}

/** Training target in model space (transformed and standardised), or a problem. */
export function encodeTarget(study: Study, value: RawValue): number | EncodeProblem {
  const name = study.target.name;
  if (isMissing(value)) return new EncodeProblem(name, 'missing');
  if (isRegression(study)) {
    const t = study.target;
    const y = asNumber(value);
    if (!Number.isFinite(y)) return new EncodeProblem(name, 'not-a-number');
    if (y < t.min || y > t.max) return new EncodeProblem(name, 'out-of-range');
    return (forwardTransform(t, y) - t.center) / t.scale;
  }
  const at = (study.target as ClassificationTarget).classes.indexOf(String(value).trim());
  return at < 0 ? new EncodeProblem(name, 'unknown-level') : at;
}

function forwardTransform(t: RegressionTarget, y: number): number {
  switch (t.transform) {
    case 'sqrt':
      return Math.sqrt(Math.max(0, y));
    case 'log':
      return Math.log(y);
    default:
      return y;
  }
}

/** Model output (standardised, transformed) back to the target's own unit, e.g. mg/week. */
export function decodeRegression(t: RegressionTarget, z: number): number {
  const u = z * t.scale + t.center;
  switch (t.transform) {
    case 'sqrt':
      return Math.max(0, u) ** 2;
    case 'log':
      return Math.exp(u);
    default:
      return u;
  }
}

/** For a clinician's query: encode or throw a coded error naming the feature. */
export function encodeQuery(study: Study, record: RawRecord, width: number): Float32Array {
  const x = encodeFeatures(study, record, width);
  if (x instanceof EncodeProblem) {
    throw new FedrxError(x.kind === 'missing' ? 'E_MISSING_FEATURE' : 'E_BAD_FEATURE', x.describe(), {
      feature: x.column,
      problem: x.kind,
    });
  }
  return x;
}
