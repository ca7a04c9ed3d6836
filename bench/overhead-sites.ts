// The sites of the round-overhead benchmark (bench/round-overhead.ts), all in this one process:
// each speaks the real protocol (challenge, signed hello, signed statistics and updates) and
// "trains" by waiting a fixed time, so that a round's time minus that wait is the coordinator's.
//   node bin/run-ts.mjs bench/overhead-sites.ts URL KEYS.json TRAIN_MS

import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { hashStats, type FeatureStats } from '../shared/feature-stats.js';
import { GENESIS_PREV_HASH } from '../shared/ledger.js';
import { hashWeights } from '../shared/model-hash.js';
import { helloBody, sign, statsBody, updateBody } from '../shared/signing.js';
import { encodeFrame } from '../shared/tensor-codec.js';
import { AGENT_PATH, decodeTaskFrame, PROTOCOL_VERSION, type Challenge } from '../shared/wire.js';

export interface OverheadSite {
  siteId: string;
  /** Hex. */
  secretKey: string;
  features: string[];
}

const ROWS = 100;

function stats(features: readonly string[]): FeatureStats {
  return {
    rows: ROWS,
    numeric: Object.fromEntries(features.map((f, i) => [f, { count: ROWS, sum: i, sumSq: ROWS + i }])),
    levels: {},
    target: { count: ROWS, sum: 50, sumSq: 200 },
  };
}

function connect(url: string, site: OverheadSite, trainMs: number): Promise<void> {
  const secretKey = Buffer.from(site.secretKey, 'hex');
  const ws = new WebSocket(url.replace(/^http/, 'ws') + AGENT_PATH, { maxPayload: 512 * 1024 * 1024 });
  return new Promise((welcomed, fail) => {
    ws.on('error', fail);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        const { header, weights } = decodeTaskFrame(data);
        if (header.kind === 'evaluate') {
          const sums = { n: ROWS, absErr: ROWS, within20: ROWS / 2, sqErr: ROWS, sumY: 50, sumY2: 200 };
          ws.send(JSON.stringify({ type: 'eval-result', v: PROTOCOL_VERSION, runId: header.runId, round: header.round, modelHash: header.modelHash, numExamples: ROWS, loss: 1, sums }));
          return;
        }
        // The update is made at once and sent when the simulated training is over.
        for (const t of weights) t.data[0] = t.data[0]! + 0.001;
        const fields = { v: PROTOCOL_VERSION, kind: 'update', siteId: site.siteId, runId: header.runId, round: header.round, baseModelHash: header.modelHash, updateHash: hashWeights(weights), numExamples: ROWS, trainLoss: 0.5 } as const;
        const frame = encodeFrame({ ...fields, signature: sign('update', updateBody(fields), secretKey) }, weights);
        setTimeout(() => ws.send(frame), trainMs);
        return;
      }
      const msg = JSON.parse(data.toString('utf8')) as { type: string; runId?: string } & Partial<Challenge>;
      if (msg.type === 'challenge') {
        const signature = sign('hello', helloBody(site.siteId, msg.nonce!, msg.coordinatorKey!), secretKey);
        ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, siteId: site.siteId, nonce: msg.nonce, signature, replica: { length: 0, headHash: GENESIS_PREV_HASH } }));
      } else if (msg.type === 'welcome') {
        welcomed();
      } else if (msg.type === 'stats-request') {
        const s = stats(site.features);
        const signature = sign('stats', statsBody({ runId: msg.runId!, siteId: site.siteId, statsHash: hashStats(s), rows: s.rows }), secretKey);
        ws.send(JSON.stringify({ type: 'stats-report', v: PROTOCOL_VERSION, runId: msg.runId, stats: s, signature }));
      } else if (msg.type === 'error') {
        console.error(`${site.siteId}: ${data.toString('utf8').slice(0, 300)}`);
      }
    });
  });
}

const [url, keyFile, trainMs] = process.argv.slice(2);
const sites = JSON.parse(readFileSync(keyFile!, 'utf8')) as OverheadSite[];
await Promise.all(sites.map((s) => connect(url!, s, Number(trainMs))));
console.log(`ready ${sites.length}`);
