// Numeric command-line options, refused before anything runs when they are not numbers > 0.

import { FedrxError } from '../shared/errors.js';

export function positive(raw: string, flag: string, unit: string): number {
  const x = Number(raw);
  if (!(Number.isFinite(x) && x > 0)) throw new FedrxError('E_BAD_REQUEST', `${flag} must be a number of ${unit} > 0, got "${raw}"`);
  return x;
}

/** A duration option in seconds: a finite number > 0 (fractions allowed), refused otherwise. */
export const positiveSeconds = (raw: string, flag: string): number => positive(raw, flag, 'seconds');
