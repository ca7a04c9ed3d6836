// The whole secure-aggregation protocol in process: ten sites' real client steps and the
// coordinator's real SecureSum, every message relayed through the test (which sees exactly what
// the coordinator sees). Dropouts at each stage, refusals, and what the coordinator can learn.

import { describe, expect, it } from 'vitest';
import { SecureSum } from '../../../coordinator/secure/secure-sum.js';
import { isFedrxError } from '../../../shared/errors.js';
import { maskVector, receiveInbox, reveal, shareKeys, startRound, type ClientRound } from '../../../shared/secagg/client.js';
import { resolveParams, type SecureParams } from '../../../shared/secagg/params.js';
import { decodeSecureSum, encodeSecureVector } from '../../../shared/secagg/secure-vector.js';
import { generateKeyPair, type KeyPair } from '../../../shared/signing.js';
import { Prng } from '../../../shared/prng.js';
import type { Weights } from '../../../shared/tensors.js';

const SITES = Array.from({ length: 10 }, (_, i) => `site-${String(i).padStart(2, '0')}`);
const P = 2000;
const identities = new Map<string, KeyPair>(SITES.map((s) => [s, generateKeyPair()]));

const model = (values: number[] | Float32Array): Weights => [{ name: 'w', shape: [values.length], data: Float32Array.from(values) }];
const rng = new Prng('secagg-test');
const globalW = model(Array.from({ length: P }, () => rng.next() - 0.5));
const locals = new Map(SITES.map((s, i) => [s, model(globalW[0]!.data.map((g) => g + (rng.next() - 0.5) * 0.2 * (1 + i / 10)))]));
const examples = new Map(SITES.map((s, i) => [s, 20 + 7 * i]));
const maxWeight = Math.max(...examples.values());

type Stage = 'keys' | 'shares' | 'opened' | 'masked' | 'unmask';

interface Outcome {
  weights: Float64Array;
  totalWeight: number;
  examples: number;
  survivors: string[];
  dropped: string[];
  captured: Map<string, Uint32Array>;
  plain: Map<string, Uint32Array>;
}

/** Runs one secure round; sites in `drop[stage]` vanish before answering that stage. */
async function secureRound(params: SecureParams, drop: Partial<Record<Stage, string[]>> = {}): Promise<Outcome> {
  const gone = new Set<string>();
  const at = (stage: Stage, sites: string[]): string[] => {
    for (const s of drop[stage] ?? []) gone.add(s);
    return sites.filter((s) => !gone.has(s));
  };
  const coordinator = new SecureSum({ runId: 'r1', round: 3, params, sites: SITES, length: P + 2 });
  const clients = new Map<string, ClientRound>();
  for (const site of at('keys', SITES)) {
    const { state, advert } = startRound({ type: 'secagg-setup', v: 1, runId: 'r1', round: 3, params, sites: SITES }, site, identities.get(site)!.secretKey);
    clients.set(site, state);
    coordinator.addAdvert(advert, identities.get(site)!.publicKey);
  }
  for (const site of at('shares', coordinator.advertised())) {
    coordinator.addShares({ type: 'secagg-shares', v: 1, ...(await shareKeys(clients.get(site)!, coordinator.rosterFor(site))) });
  }
  for (const site of at('opened', coordinator.shared())) coordinator.addOpened(site, receiveInbox(clients.get(site)!, coordinator.inboxFor(site)));
  const captured = new Map<string, Uint32Array>();
  const plain = new Map<string, Uint32Array>();
  const u = new Prng('rounding');
  for (const site of at('masked', coordinator.ready())) {
    const { vector } = encodeSecureVector(globalW, locals.get(site)!, examples.get(site)! / maxWeight, examples.get(site)!, params, () => u.next());
    plain.set(site, vector);
    const masked = maskVector(clients.get(site)!, vector);
    captured.set(site, masked);
    coordinator.addMasked(site, masked);
  }
  const request = coordinator.unmaskRequest();
  for (const site of at('unmask', request.survivors)) {
    const r = reveal(clients.get(site)!, request);
    coordinator.addReveal(site, r.selfShares, r.keyShares);
  }
  const { sum, survivors, dropped } = await coordinator.finish();
  const decoded = decodeSecureSum(sum, survivors.length, globalW, params);
  return { weights: decoded.sums[0]!, totalWeight: decoded.totalWeight, examples: decoded.examples, survivors, dropped, captured, plain };
}

/** Σ r·w over `sites` in float64, exactly (the plain FedAvg numerator). */
function plainSum(sites: readonly string[]): { sum: Float64Array; weight: number } {
  const sum = new Float64Array(P);
  let weight = 0;
  for (const s of sites) {
    const r = examples.get(s)! / maxWeight;
    weight += r;
    const w = locals.get(s)![0]!.data;
    for (let i = 0; i < P; i++) sum[i]! += r * w[i]!;
  }
  return { sum, weight };
}

const maxAbsDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

const params = resolveParams({ threshold: 6, clip: 1, quantBits: 20 }, SITES.length, maxWeight);

describe('secure aggregation, ten sites, threshold 6', () => {
  it('unmasks to the plain FedAvg sum within the quantisation error, and counts examples exactly', async () => {
    const r = await secureRound(params);
    expect(r.survivors).toEqual(SITES);
    const { sum, weight } = plainSum(SITES);
    const err = maxAbsDiff(r.weights, sum);
    const step = (2 * params.clip) / (2 ** params.quantBits - 1);
    console.log(`secure sum vs plain sum: max |error| ${err.toExponential(3)} over ${P} weights (quantisation step ${step.toExponential(3)}, 10 sites)`);
    // Each site's stochastic rounding errs by under one step; the weight's rounding moves every coordinate by |g| · its error.
    expect(err).toBeLessThan(SITES.length * step * 2);
    expect(Math.abs(r.totalWeight - weight)).toBeLessThan(SITES.length * step);
    expect(r.examples).toBe([...examples.values()].reduce((a, b) => a + b, 0));
  });

  it('no masked update the coordinator receives is closer to its site\'s true vector than a random vector is', async () => {
    const r = await secureRound(params);
    for (const site of SITES) {
      const masked = r.captured.get(site)!;
      const truth = r.plain.get(site)!;
      // Ring distance between masked and true values, against the same distance to fresh uniform values.
      const dist = (a: Uint32Array, b: Uint32Array): number => {
        let d = 0;
        for (let i = 0; i < a.length; i++) {
          const x = (a[i]! - b[i]!) >>> 0;
          d += Math.min(x, 2 ** 32 - x);
        }
        return d / a.length;
      };
      const random = new Uint32Array(masked.length).map(() => Math.floor(Math.random() * 2 ** 32));
      const toTruth = dist(masked, truth);
      const toRandom = dist(random, truth);
      // Uniform ring distance has mean 2^30 and, over 2,002 values, a standard error near 0.013·2^30.
      expect(Math.abs(toTruth - 2 ** 30) / 2 ** 30).toBeLessThan(0.06);
      expect(Math.abs(toTruth - toRandom) / 2 ** 30).toBeLessThan(0.08);
      // And the masked values are not correlated with the true ones: the mean product of the centred
      // values stays within 6 standard errors of 0 (a 2.6σ bound failed one site in ten runs or so).
      // A masked vector equal to the truth would give mean((t − ½)²), about 0.25 here: some 45σ.
      let dot = 0;
      let mm = 0;
      let tt = 0;
      for (let i = 0; i < masked.length; i++) {
        const m = masked[i]! / 2 ** 32 - 0.5;
        const t = truth[i]! / 2 ** 32 - 0.5;
        dot += m * t;
        mm += m * m;
        tt += t * t;
      }
      const n = masked.length;
      expect(Math.abs(dot / n)).toBeLessThan(6 * Math.sqrt((mm / n) * (tt / n) / n));
    }
  });

  const three = ['site-01', 'site-04', 'site-08'];
  for (const stage of ['keys', 'shares', 'opened', 'masked', 'unmask'] as const) {
    it(`three sites lost at the ${stage} stage: the survivors' sum is still exact`, async () => {
      const r = await secureRound(params, { [stage]: three });
      const inSum = stage === 'unmask' ? SITES : SITES.filter((s) => !three.includes(s));
      expect(r.survivors).toEqual(inSum);
      expect(r.dropped).toEqual(stage === 'masked' || stage === 'opened' ? three : []);
      const { sum } = plainSum(inSum);
      expect(maxAbsDiff(r.weights, sum)).toBeLessThan(SITES.length * 2 * ((2 * params.clip) / (2 ** params.quantBits - 1)));
    });
  }

  it('five sites lost after uploading: fewer than six reveal, and the round fails with E_SECAGG_THRESHOLD', async () => {
    const err = await secureRound(params, { unmask: ['site-00', 'site-02', 'site-04', 'site-06', 'site-08'] }).catch((e: unknown) => e);
    expect(isFedrxError(err) && err.code).toBe('E_SECAGG_THRESHOLD');
  });
});
