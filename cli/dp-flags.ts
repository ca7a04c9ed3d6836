// `run start --dp-noise-multiplier Z --dp-clip C [--dp-delta D]`: the run's `dp` field, refused before
// anything is sent when a value is not a positive finite number (E_DP_SETTINGS, as the coordinator
// would answer). δ's bound, below 1/n for n registered sites, is the coordinator's to check.

import { FedrxError } from '../shared/errors.js';

export const DP_FLAGS: [flag: string, help: string][] = [
  ['--dp-noise-multiplier <z>', 'client-level DP-FedAvg: Gaussian noise of std Z·C on the sum of clipped changes (needs --dp-clip)'],
  ['--dp-clip <c>', "DP-FedAvg: L2 bound C on each site's change from the global model"],
  ['--dp-delta <d>', 'δ of the run\'s (ε, δ) figures; below 1/n for n registered sites (default n^-1.1)'],
];

const positive = (raw: unknown, flag: string): number => {
  const x = Number(raw);
  if (!(Number.isFinite(x) && x > 0)) throw new FedrxError('E_DP_SETTINGS', `${flag} must be a positive finite number, got ${JSON.stringify(raw)}`);
  return x;
};

/** The POST /v1/runs `dp` field from the parsed flags, or undefined without them. */
export function dpField(o: { dpNoiseMultiplier?: unknown; dpClip?: unknown; dpDelta?: unknown }): { noiseMultiplier: number; clip: number; delta?: number } | undefined {
  if (o.dpNoiseMultiplier === undefined && o.dpClip === undefined && o.dpDelta === undefined) return undefined;
  if (o.dpNoiseMultiplier === undefined || o.dpClip === undefined) throw new FedrxError('E_DP_SETTINGS', 'differential privacy needs both --dp-noise-multiplier and --dp-clip');
  const noiseMultiplier = positive(o.dpNoiseMultiplier, '--dp-noise-multiplier');
  const clip = positive(o.dpClip, '--dp-clip');
  if (o.dpDelta === undefined) return { noiseMultiplier, clip };
  const delta = positive(o.dpDelta, '--dp-delta');
  if (delta >= 1) throw new FedrxError('E_DP_SETTINGS', `--dp-delta must be below 1, got ${delta}`);
  return { noiseMultiplier, clip, delta };
}
