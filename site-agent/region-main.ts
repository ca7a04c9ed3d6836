// A regional agent: a site of the parent coordinator whose compute is the region's own coordinator
// (regional-compute.ts), and which vouches for a parent entry only once its sites endorsed the
// regional round behind it. `fedrx region` runs one until a signal; the simulator runs many.
// Closing one ends its relay runs.

import type { CoordinatorClient } from '../cli/client/client.js';
import { startAgent, type AgentOptions, type RunningAgent } from './agent.js';
import { closeOnSignals } from './main.js';
import { RegionalCompute } from './regional-compute.js';
import { relayStepsOf } from './relay-steps.js';
import { agentTls } from './tls-options.js';

export interface RegionAgentOptions extends Pick<AgentOptions, 'coordinatorKey' | 'siteId' | 'keyDir' | 'replicaDir' | 'tls' | 'backoff'> {
  /** The parent coordinator. */
  parentUrl: string;
  /** The region's own coordinator, as a data scientist. */
  region: CoordinatorClient;
  /** The relay runs' settings (minSites, strategy, timeouts). */
  relayRun: Record<string, unknown>;
  log: (line: string) => void;
}

export async function startRegion(o: RegionAgentOptions): Promise<RunningAgent> {
  const { parentUrl, region, relayRun, ...agent } = o;
  const compute = new RegionalCompute(relayStepsOf(region), { run: relayRun, log: o.log });
  return startAgent({
    ...agent,
    coordinatorUrl: parentUrl,
    dataFile: '', // a region has no rows of its own: its sites do
    compute,
    vouch: (entry) => compute.vouch(entry, o.siteId),
  });
}

export async function runRegion(o: {
  parentUrl: string;
  parentKey: string | undefined;
  siteId: string;
  keyDir: string;
  replicaDir: string;
  region: CoordinatorClient;
  relayRun: Record<string, unknown>;
  tlsCa?: string | undefined;
  tlsPin?: string | undefined;
}): Promise<void> {
  const log = (line: string): void => console.log(`[${o.siteId}] ${line}`);
  const tls = agentTls(o.parentUrl, { caFile: o.tlsCa, pin: o.tlsPin });
  const agent = await startRegion({
    parentUrl: o.parentUrl,
    siteId: o.siteId,
    keyDir: o.keyDir,
    replicaDir: o.replicaDir,
    region: o.region,
    relayRun: o.relayRun,
    log,
    ...(o.parentKey === undefined ? {} : { coordinatorKey: o.parentKey }),
    ...(tls === undefined ? {} : { tls }),
  });
  log(`relaying the parent's tasks to the regional coordinator ${o.region.base}`);
  closeOnSignals(agent, log);
}
