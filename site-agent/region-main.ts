// The regional agent process (`fedrx region`): a site of the parent coordinator, with the region's
// own coordinator as its compute (regional-compute.ts). Runs until a signal; closing it ends its
// relay runs.

import type { CoordinatorClient } from '../cli/client/client.js';
import { startAgent } from './agent.js';
import { closeOnSignals } from './main.js';
import { RegionalCompute } from './regional-compute.js';
import { relayStepsOf } from './relay-steps.js';
import { agentTls } from './tls-options.js';

export async function runRegion(o: {
  parentUrl: string;
  parentKey: string | undefined;
  siteId: string;
  keyDir: string;
  replicaDir: string;
  /** The region's own coordinator, as a data scientist. */
  region: CoordinatorClient;
  /** The relay runs' settings (minSites, strategy, timeouts). */
  relayRun: Record<string, unknown>;
  tlsCa?: string | undefined;
  tlsPin?: string | undefined;
}): Promise<void> {
  const log = (line: string): void => console.log(`[${o.siteId}] ${line}`);
  const tls = agentTls(o.parentUrl, { caFile: o.tlsCa, pin: o.tlsPin });
  const compute = new RegionalCompute(relayStepsOf(o.region), { run: o.relayRun, log });
  const agent = await startAgent({
    coordinatorUrl: o.parentUrl,
    siteId: o.siteId,
    dataFile: '', // a region has no rows of its own: its sites do
    keyDir: o.keyDir,
    replicaDir: o.replicaDir,
    compute,
    vouch: (entry) => compute.vouch(entry, o.siteId),
    log,
    ...(o.parentKey === undefined ? {} : { coordinatorKey: o.parentKey }),
    ...(tls === undefined ? {} : { tls }),
  });
  log(`relaying the parent's tasks to the regional coordinator ${o.region.base}`);
  closeOnSignals(agent, log);
}
