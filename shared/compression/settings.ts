// A run's choice of update compression: as the data scientist gives it (`--compression`,
// `--topk-fraction`, the POST /v1/runs fields), as the run stores it (so the config hash, and with it
// every ledger entry of the run, proves it) and as each task carries it to the sites.

import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from '../errors.js';

export const CompressionSchema = Type.Union([
  Type.Object({ codec: Type.Literal('float16') }, { additionalProperties: false }),
  Type.Object({ codec: Type.Literal('topk'), fraction: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }) }, { additionalProperties: false }),
]);
export type Compression = Static<typeof CompressionSchema>;
export type Codec = Compression['codec'];

/** `none` is float32, as without the flag: nothing is stored, and the config hash is a plain run's. */
export const COMPRESSION_CHOICES = ['none', 'float16', 'topk'] as const;
export const DEFAULT_TOPK_FRACTION = 0.01;

/**
 * The stored setting from the request's `compression` and `topkFraction` (attacker-controlled: a
 * REST body or flags, NaN included), or undefined for none; E_COMPRESSION_SETTINGS otherwise.
 */
export function resolveCompression(given: { compression?: string | undefined; topkFraction?: number | undefined }): Compression | undefined {
  const { compression, topkFraction } = given;
  if (compression !== undefined && !(COMPRESSION_CHOICES as readonly string[]).includes(compression)) {
    throw new FedrxError('E_COMPRESSION_SETTINGS', `compression must be one of ${COMPRESSION_CHOICES.join(', ')}, got ${JSON.stringify(compression.slice(0, 32))}`);
  }
  if (compression !== 'topk') {
    if (topkFraction !== undefined) throw new FedrxError('E_COMPRESSION_SETTINGS', 'a top-k fraction is for compression topk');
    return compression === 'float16' ? { codec: 'float16' } : undefined;
  }
  const fraction = topkFraction ?? DEFAULT_TOPK_FRACTION;
  if (!(Number.isFinite(fraction) && fraction > 0 && fraction < 1)) {
    throw new FedrxError('E_COMPRESSION_SETTINGS', `the top-k fraction must be a number strictly between 0 and 1, got ${fraction}`);
  }
  return { codec: 'topk', fraction };
}

/** "float16", "top-k 1%": for logs and tables. */
export function describeCompression(c: Compression | undefined): string {
  if (c === undefined) return 'float32';
  return c.codec === 'float16' ? 'float16' : `top-k ${Number((c.fraction * 100).toPrecision(6))}%`;
}
