// One site-pool thread of `fedrx simulate`: many virtual sites, each a real site agent
// (site-agent/agent.ts: its own key, connection, replica, endorsements and answers) whose
// computations share this thread's tfjs (thread-compute.ts). Its sites' log lines go to a file.

import { createWriteStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { startAgent, type RunningAgent } from '../site-agent/agent.js';
import { loadTf } from '../site-agent/backend.js';
import { computeHandlers } from '../site-agent/compute-handlers.js';
import { SiteData } from '../site-agent/site-data.js';
import { hostileUpdates } from './hostile-updates.js';
import { sharedEntryPool, sharedMessageParser } from './shared-ledger-reading.js';
import type { FromPool, PoolThreadData, ToPool, VirtualSiteSpec } from './pool-messages.js';
import { withBehaviour } from './site-behaviour.js';
import { InThreadCompute, SerialQueue } from './thread-compute.js';

/** Sites started at once: each opens files and dials; the rest wait their turn. */
const STARTING_AT_ONCE = 32;

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (msg: FromPool): void => port.postMessage(msg);
  const opts = workerData as PoolThreadData;
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  const log = (line: string): void => void out.write(`${new Date().toISOString()} ${line}\n`);
  const { tf, backend } = await loadTf(log);
  post({ type: 'ready', backend });

  const queue = new SerialQueue();
  const entryPool = sharedEntryPool();
  const parseMessage = sharedMessageParser();
  const hostile = hostileUpdates(opts.sites.filter((s) => s.behaviour.attack !== null).length, opts.totalSites);
  const agents: RunningAgent[] = [];
  let stopping = false;

  const startSite = async (spec: VirtualSiteSpec): Promise<void> => {
    const siteLog = (line: string): void => log(`[${spec.siteId}] ${line}`);
    const data = new SiteData(spec.dataFile, { siteId: spec.siteId, dropBadRows: false }, siteLog);
    const compute = new InThreadCompute(computeHandlers(tf, data, spec.siteId), queue, backend);
    let agent: RunningAgent | null = null;
    const behaved = withBehaviour(compute, spec.behaviour, { drop: () => agent?.dropConnection(), attack: hostile.attackFor(spec.behaviour) });
    const coordinator = opts.coordinators[spec.coordinator]!;
    agent = await startAgent({
      coordinatorUrl: coordinator.url,
      coordinatorKey: coordinator.key,
      siteId: spec.siteId,
      dataFile: spec.dataFile,
      keyDir: { publicKey: spec.publicKey, secretKey: spec.secretKey },
      replicaDir: spec.stateDir,
      compute: behaved,
      entryPool,
      parseMessage,
      log: siteLog,
      backoff: { minDelayMs: 500, maxDelayMs: 5_000 },
    });
    agents.push(agent);
  };

  const pending = [...opts.sites];
  const starter = async (): Promise<void> => {
    for (let s = pending.shift(); s !== undefined && !stopping; s = pending.shift()) await startSite(s);
  };
  try {
    await Promise.all(Array.from({ length: STARTING_AT_ONCE }, starter));
    post({ type: 'started', sites: agents.length });
  } catch (e) {
    post({ type: 'failed', message: (e as Error).message });
  }

  port.on('message', (msg: ToPool) => {
    if (msg.type !== 'stop') return;
    stopping = true;
    void Promise.allSettled(agents.map((a) => a.close())).then(() => {
      out.end(() => post({ type: 'stopped' }));
    });
  });
}

if (parentPort === null) throw new Error('pool-thread.ts runs as a worker thread');
await main(parentPort);
