// Secure aggregation's cost to the coordinator: one round of a ~1M-parameter model at 10, 50 and
// 100 sites, plain FedAvg against SecAgg+ (all sites as neighbours, threshold just over 2/3), in
// the same run.
//   node bin/run-ts.mjs bench/secagg.ts          (npm run bench:secagg; FEDRX_BENCH_SITES=10,50 for fewer)
// Coordinator time is everything the coordinator does with the round's messages once they are
// bytes: parse and check every answer (schemas, hashes, Ed25519 signatures), build each site's
// roster and inbox, fold the updates (plain) or the masked vectors (secure), unmask and aggregate.
// Bytes are every message of the round both ways. Sites' own work is reported apart, per site.
// In one process, without sockets: what is compared is the coordinator's work, not the network.

import { performance } from 'node:perf_hooks';
import { SecureSum } from '../coordinator/secure/secure-sum.js';
import { createStrategy } from '../coordinator/strategies/registry.js';
import { hashMasked, hashWeights } from '../shared/model-hash.js';
import { maskVector, receiveInbox, reveal, shareKeys, startRound, type ClientRound } from '../shared/secagg/client.js';
import { resolveParams } from '../shared/secagg/params.js';
import { decodeSecureSum, encodeSecureVector, secureLength } from '../shared/secagg/secure-vector.js';
import { keysBody, MaskedUpdateHeaderSchema } from '../shared/secagg/wire.js';
import { generateKeyPair, sign, updateBody, verify, type KeyPair } from '../shared/signing.js';
import { decodeFrameU32, encodeFrame, encodeFrameU32 } from '../shared/tensor-codec.js';
import type { Weights } from '../shared/tensors.js';
import { decodeUpdateFrame, expectSchema, messageText, parseAgentMessage, type AgentMessage } from '../shared/wire.js';

const PARAMS = 1_000_000;
const SITE_COUNTS = (process.env.FEDRX_BENCH_SITES ?? '10,50,100').split(',').map(Number);
const RUN = 'bench-run';
const ROUND = 1;
const HASH = 'b'.repeat(64);

const model = (data: Float32Array): Weights => [{ name: 'w', shape: [data.length], data }];
const global = model(Float32Array.from({ length: PARAMS }, (_, i) => Math.sin(i) * 0.5));
const trainFrame = (secure: boolean): Buffer =>
  encodeFrame({ v: 1, kind: 'train', runId: RUN, round: ROUND, modelHash: HASH, config: {}, ...(secure ? { secure: true } : {}) }, global);

/** A site's trained weights: the global model plus a small site-specific step. */
function localWeights(i: number): Weights {
  const g = global[0]!.data;
  const out = new Float32Array(PARAMS);
  for (let k = 0; k < PARAMS; k++) out[k] = g[k]! + 0.01 * Math.sin(k * (i + 1));
  return model(out);
}

interface Figures {
  coordinatorSec: number;
  bytes: number;
  siteSec: number;
}

const text = (s: string): number => Buffer.byteLength(s, 'utf8');
const agent = (s: string): AgentMessage => parseAgentMessage(s);

function plainRound(sites: string[], ids: Map<string, KeyPair>): Figures {
  const train = trainFrame(false);
  let bytes = train.length * sites.length;
  let coordinator = 0;
  let site = 0;
  const selected = new Set(sites);
  const agg = createStrategy('fedavg', {}).beginRound({ runId: RUN, round: ROUND, globalWeights: global, globalHash: HASH, selected });
  for (const [i, s] of sites.entries()) {
    let t = performance.now();
    const w = localWeights(i);
    const signedPart = { runId: RUN, round: ROUND, siteId: s, baseModelHash: HASH, updateHash: hashWeights(w), numExamples: 100 + i };
    const frame = encodeFrame({ v: 1, kind: 'update', ...signedPart, trainLoss: 0.5, signature: sign('update', updateBody(signedPart), ids.get(s)!.secretKey) }, w);
    site += performance.now() - t;
    bytes += frame.length;
    t = performance.now();
    const { header, weights } = decodeUpdateFrame(frame);
    if (hashWeights(weights) !== header.updateHash || !verify('update', updateBody(header), header.signature, ids.get(s)!.publicKey)) throw new Error('bad update');
    const v = agg.accept({ siteId: s, runId: RUN, round: ROUND, baseModelHash: HASH, numExamples: header.numExamples, updateHash: header.updateHash, weights });
    if (!v.accepted) throw new Error(v.reason);
    coordinator += performance.now() - t;
  }
  const t = performance.now();
  agg.finalize();
  coordinator += performance.now() - t;
  return { coordinatorSec: coordinator / 1000, bytes, siteSec: site / 1000 / sites.length };
}

async function secureRound(sites: string[], ids: Map<string, KeyPair>): Promise<Figures & { error: number }> {
  const params = resolveParams({}, sites.length, 100 + sites.length);
  const sum = new SecureSum({ runId: RUN, round: ROUND, params, sites, length: secureLength(PARAMS) });
  const clients = new Map<string, ClientRound>();
  let coordinator = 0;
  let siteMs = 0;
  let bytes = 0;
  const onCoordinator = <T>(f: () => T): T => {
    const t = performance.now();
    const r = f();
    coordinator += performance.now() - t;
    return r;
  };
  const onSite = async <T>(f: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await f();
    siteMs += performance.now() - t;
    return r;
  };
  const setup = onCoordinator(() => messageText({ type: 'secagg-setup', v: 1, runId: RUN, round: ROUND, params, sites }));
  for (const s of sites) {
    const { state, advert } = await onSite(() => startRound({ type: 'secagg-setup', v: 1, runId: RUN, round: ROUND, params, sites }, s, ids.get(s)!.secretKey));
    clients.set(s, state);
    const reply = messageText({ type: 'secagg-keys', v: 1, runId: RUN, round: ROUND, ...advert });
    bytes += text(setup) + text(reply);
    onCoordinator(() => {
      const m = agent(reply);
      if (m.type !== 'secagg-keys' || !verify('secagg-keys', keysBody(m), m.signature, ids.get(s)!.publicKey)) throw new Error('bad keys');
      sum.addAdvert({ siteId: m.siteId, cPk: m.cPk, sPk: m.sPk, signature: m.signature }, ids.get(s)!.publicKey);
    });
  }
  for (const s of sites) {
    const roster = onCoordinator(() => messageText(sum.rosterFor(s)));
    const shares = await onSite(async () => messageText({ type: 'secagg-shares', v: 1, ...(await shareKeys(clients.get(s)!, JSON.parse(roster))) }));
    bytes += text(roster) + text(shares);
    onCoordinator(() => {
      const m = agent(shares);
      if (m.type === 'secagg-shares') sum.addShares(m);
    });
  }
  for (const s of sites) {
    const inbox = onCoordinator(() => messageText(sum.inboxFor(s)));
    const opened = await onSite(() => messageText({ type: 'secagg-opened', v: 1, runId: RUN, round: ROUND, siteId: s, refusedBoxes: receiveInbox(clients.get(s)!, JSON.parse(inbox)) }));
    bytes += text(inbox) + text(opened);
    onCoordinator(() => {
      const m = agent(opened);
      if (m.type === 'secagg-opened') sum.addOpened(s, m.refusedBoxes);
    });
  }
  const train = trainFrame(true);
  for (const [i, s] of sites.entries()) {
    const w = localWeights(i);
    const frame = await onSite(() => {
      const { vector } = encodeSecureVector(global, w, (100 + i) / params.maxWeight, 100 + i, params, Math.random);
      const masked = maskVector(clients.get(s)!, vector);
      const signedPart = { runId: RUN, round: ROUND, siteId: s, baseModelHash: HASH, updateHash: hashMasked(masked), numExamples: 100 + i };
      return encodeFrameU32({ v: 1, kind: 'masked-update', ...signedPart, trainLoss: 0.5, sPk: Buffer.from(clients.get(s)!.s.publicKey).toString('hex'), signature: sign('update', updateBody(signedPart), ids.get(s)!.secretKey) }, 'masked', masked);
    });
    bytes += train.length + frame.length;
    onCoordinator(() => {
      const f = decodeFrameU32(frame);
      const header = expectSchema(MaskedUpdateHeaderSchema, f.header, 'E_FRAME_HEADER', 'masked-update header');
      if (hashMasked(f.data) !== header.updateHash || !verify('update', updateBody(header), header.signature, ids.get(s)!.publicKey)) throw new Error('bad masked update');
      sum.addMasked(s, f.data, header.sPk);
    });
  }
  const unmask = onCoordinator(() => messageText(sum.unmaskRequest()));
  for (const s of sites) {
    const revealed = await onSite(() => messageText({ type: 'secagg-reveal', v: 1, runId: RUN, round: ROUND, siteId: s, ...reveal(clients.get(s)!, JSON.parse(unmask)) }));
    bytes += text(unmask) + text(revealed);
    onCoordinator(() => {
      const m = agent(revealed);
      if (m.type === 'secagg-reveal') sum.addReveal(s, m.selfShares, m.keyShares);
    });
  }
  let t = performance.now();
  const { sum: plainSum, survivors } = await sum.finish();
  const decoded = decodeSecureSum(plainSum, survivors.length, global, params);
  const agg = createStrategy('fedavg', {}).beginRound({ runId: RUN, round: ROUND, globalWeights: global, globalHash: HASH, selected: new Set(sites) });
  agg.acceptSum?.({ sums: decoded.sums, totalWeight: decoded.totalWeight, contributors: survivors });
  const result = agg.finalize()!;
  coordinator += performance.now() - t;
  // The plain weighted mean, for the quantisation error.
  t = performance.now();
  let total = 0;
  const exact = new Float64Array(PARAMS);
  for (const [i] of sites.entries()) {
    const r = (100 + i) / params.maxWeight;
    total += r;
    const w = localWeights(i)[0]!.data;
    for (let k = 0; k < PARAMS; k++) exact[k]! += r * w[k]!;
  }
  let error = 0;
  for (let k = 0; k < PARAMS; k++) error = Math.max(error, Math.abs(exact[k]! / total - result.weights[0]!.data[k]!));
  return { coordinatorSec: coordinator / 1000, bytes, siteSec: siteMs / 1000 / sites.length, error };
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
console.log(`secure aggregation, one round of a ${PARAMS.toLocaleString('en')}-parameter model (all sites neighbours, threshold ⌊2n/3⌋+1, 20-bit quantisation, clip ±4)`);
console.log('');
console.log('| sites | plain coord s | secure coord s | time ratio | plain MB | secure MB | bytes ratio | site s (plain → secure) | max |secure − plain| mean |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
{
  // Warm-up, not printed: schema compilation and JIT of both paths on a 3-site round.
  const sites = ['warm-a', 'warm-b', 'warm-c'];
  const ids = new Map(sites.map((s) => [s, generateKeyPair()]));
  plainRound(sites, ids);
  await secureRound(sites, ids);
}
for (const n of SITE_COUNTS) {
  const sites = Array.from({ length: n }, (_, i) => `site-${String(i).padStart(3, '0')}`);
  const ids = new Map(sites.map((s) => [s, generateKeyPair()]));
  const plain = plainRound(sites, ids);
  const secure = await secureRound(sites, ids);
  console.log(
    `| ${n} | ${fmt(plain.coordinatorSec)} | ${fmt(secure.coordinatorSec)} | ${fmt(secure.coordinatorSec / plain.coordinatorSec)}× | ${fmt(plain.bytes / 1e6, 1)} | ${fmt(secure.bytes / 1e6, 1)} | ${fmt(secure.bytes / plain.bytes, 3)}× | ${fmt(plain.siteSec, 3)} → ${fmt(secure.siteSec, 3)} | ${secure.error.toExponential(2)} |`,
  );
}
console.log('');
console.log('Goal at 100 sites: at most 2× the plain coordinator time and 1.5× the plain bytes. Site seconds exclude training (the same either way).');
