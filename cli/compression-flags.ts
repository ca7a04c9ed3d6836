// `run start --compression none|float16|topk [--topk-fraction F]`: the run's update compression,
// refused before anything is sent when the codec or the fraction is invalid (E_COMPRESSION_SETTINGS,
// as the coordinator would answer). Pairings that cannot work (secure aggregation, DP, an exact fit)
// are the coordinator's to refuse.

import { COMPRESSION_CHOICES, DEFAULT_TOPK_FRACTION, resolveCompression } from '../shared/compression/settings.js';

export const COMPRESSION_FLAGS: [flag: string, help: string][] = [
  ['--compression <codec>', `send each site's change from the global model compressed: ${COMPRESSION_CHOICES.join(', ')} (none: float32 weights, as by default; topk with error feedback)`],
  ['--topk-fraction <f>', `--compression topk: the share of the parameters each site sends per round, 0 < f < 1 (default ${DEFAULT_TOPK_FRACTION})`],
];

/** The POST /v1/runs fields from the parsed flags (none without them). */
export function compressionFields(o: { compression?: unknown; topkFraction?: unknown }): { compression?: string; topkFraction?: number } {
  const compression = o.compression === undefined ? undefined : String(o.compression);
  const topkFraction = o.topkFraction === undefined ? undefined : String(o.topkFraction).trim() === '' ? Number.NaN : Number(o.topkFraction);
  resolveCompression({ compression, topkFraction }); // throws E_COMPRESSION_SETTINGS before sending
  return { ...(compression === undefined ? {} : { compression }), ...(topkFraction === undefined ? {} : { topkFraction }) };
}
