// Ed25519 by node:crypto (what shared/signing.ts uses) against @noble/curves (what it used before),
// measured in the same run on the same keys and messages: an update body's size, as a site signs
// it and a coordinator verifies it. Interleaved batches, medians of 7; printed as operations per
// second and as a ratio to @noble.
//   node bin/run-ts.mjs bench/signing.ts          (npm run bench:signing)

import { performance } from 'node:perf_hooks';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { generateKeyPair, sign, SIGNATURE_DOMAINS, updateBody, verify } from '../shared/signing.js';

const KEYS = 8;
const BATCH = 200;
const REPS = 7;

const keys = Array.from({ length: KEYS }, () => generateKeyPair());
const bodies = keys.map((_, i) => updateBody({ runId: 'run-bench', round: i + 1, siteId: `site-${i}`, baseModelHash: 'a'.repeat(64), updateHash: 'b'.repeat(64), numExamples: 100 + i }));
const messages = bodies.map((b) => utf8ToBytes(`${SIGNATURE_DOMAINS.update}\0${canonicalJson(b)}`));
const signatures = keys.map((k, i) => sign('update', bodies[i]!, k.secretKey));
const publicBytes = keys.map((k) => hexToBytes(k.publicKey));

const ways = {
  'sign, node:crypto': (i: number) => sign('update', bodies[i]!, keys[i]!.secretKey),
  'sign, @noble': (i: number) => bytesToHex(ed25519.sign(messages[i]!, keys[i]!.secretKey)),
  'verify, node:crypto': (i: number) => verify('update', bodies[i]!, signatures[i]!, keys[i]!.publicKey),
  'verify, @noble': (i: number) => ed25519.verify(hexToBytes(signatures[i]!), messages[i]!, publicBytes[i]!),
} as const;
type Way = keyof typeof ways;

// Both sides must agree before anything is timed.
for (let i = 0; i < KEYS; i++) {
  if (ways['sign, node:crypto'](i) !== ways['sign, @noble'](i)) throw new Error(`key ${i}: the two signatures differ`);
  if (!ways['verify, node:crypto'](i) || !ways['verify, @noble'](i)) throw new Error(`key ${i}: a signature does not verify`);
}

/** Operations per second of one batch. */
function batchRate(way: Way): number {
  const f = ways[way];
  const t0 = performance.now();
  for (let n = 0; n < BATCH; n++) f(n % KEYS);
  return BATCH / ((performance.now() - t0) / 1000);
}

const rates: Record<Way, number[]> = { 'sign, node:crypto': [], 'sign, @noble': [], 'verify, node:crypto': [], 'verify, @noble': [] };
for (const way of Object.keys(ways) as Way[]) batchRate(way); // warm-up
for (let r = 0; r < REPS; r++) {
  for (const way of Object.keys(ways) as Way[]) rates[way].push(batchRate(way));
  console.log(`repetition ${r + 1}/${REPS}: ${(Object.keys(ways) as Way[]).map((w) => `${w} ${rates[w].at(-1)!.toFixed(0)}/s`).join(', ')}`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\nEd25519 over an update body (${messages[0]!.length} bytes), median of ${REPS} batches of ${BATCH}:`);
console.log('operation   @noble/s   node:crypto/s   node:crypto ÷ @noble');
for (const op of ['sign', 'verify'] as const) {
  const noble = median(rates[`${op}, @noble`]);
  const node = median(rates[`${op}, node:crypto`]);
  console.log(`${op.padEnd(9)}  ${noble.toFixed(0).padStart(9)}  ${node.toFixed(0).padStart(14)}   ${(node / noble).toFixed(1)}×`);
}
