// The regions of a two-level simulation, as the national coordinator sees them: one regional agent
// per region, a real site agent (its own key, connection, replica and endorsements) whose compute
// relays each national task to its regional coordinator (site-agent/region-main.ts).

import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { RunningAgent } from '../site-agent/agent.js';
import { startRegion } from '../site-agent/region-main.js';
import type { KeyPair } from '../shared/signing.js';
import type { SimCoordinator } from './sim-coordinator.js';

export interface RegionalAgentsOptions {
  national: SimCoordinator;
  /** The regional coordinators, in region order. */
  regions: readonly SimCoordinator[];
  /** Each region's site id and key at the national level, in region order. */
  identities: readonly { siteId: string; keys: KeyPair }[];
  /** Region k's relay-run settings (POST /v1/runs fields but study and relay). */
  relayRun: (k: number) => Record<string, unknown>;
  dir: string;
  logDir: string;
}

export class RegionalAgents {
  private constructor(
    private readonly agents: RunningAgent[],
    private readonly out: WriteStream,
  ) {}

  static async start(o: RegionalAgentsOptions): Promise<RegionalAgents> {
    const out = createWriteStream(join(o.logDir, 'regional-agents.log'), { flags: 'a' });
    const agents: RunningAgent[] = [];
    try {
      for (const [k, region] of o.regions.entries()) {
        const { siteId, keys } = o.identities[k]!;
        const log = (line: string): void => void out.write(`${new Date().toISOString()} [${siteId}] ${line}\n`);
        agents.push(
          await startRegion({
            parentUrl: o.national.url,
            coordinatorKey: o.national.key,
            siteId,
            keyDir: keys,
            replicaDir: join(o.dir, 'regions', siteId, 'agent'),
            region: region.client,
            relayRun: o.relayRun(k),
            log,
            backoff: { minDelayMs: 500, maxDelayMs: 5_000 },
          }),
        );
      }
    } catch (e) {
      await Promise.allSettled(agents.map((a) => a.close()));
      out.end();
      throw e;
    }
    return new RegionalAgents(agents, out);
  }

  /** Closes each agent; closing its compute ends its relay runs. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.agents.map((a) => a.close()));
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}
