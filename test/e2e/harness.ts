// End-to-end federations: synthetic cohorts, then the same local federation the demo runs.

import { join } from 'node:path';
import { startLocalFederation, type FederationTls, type LocalFederation } from '../../cli/local-federation.js';
import { generateSiteCsvs, type GeneratedSite } from '../../datasets/generate.js';

export { fedrxCommand } from '../../cli/local-federation.js';

export interface Federation extends LocalFederation {
  sites: GeneratedSite[];
}

export async function startFederation(
  dir: string,
  opts: {
    sites: number;
    /** Total patients over all sites (default: the generator's, 300 per site). */
    patients?: number;
    extraAgentArgs?: Record<string, string[]>;
    /** Called after the cohorts are written: returns data files to use instead, by site id. */
    dataFiles?: (sites: GeneratedSite[]) => Record<string, string>;
    /** Serve over HTTPS/WSS with this certificate; every agent trusts and pins it. */
    tls?: FederationTls;
    /** Extra `fedrx coordinator` arguments, e.g. a short `--heartbeat-sec`. */
    coordinatorArgs?: string[];
    /** Extra environment of the coordinator process, e.g. FEDRX_CRASH_AT. */
    coordinatorEnv?: NodeJS.ProcessEnv;
  },
): Promise<Federation> {
  const sites = await generateSiteCsvs({
    sites: opts.sites,
    outDir: join(dir, 'sites'),
    seed: 'e2e',
    ...(opts.patients === undefined ? {} : { totalPatients: opts.patients }),
  });
  const overrides = opts.dataFiles?.(sites) ?? {};
  const fed = await startLocalFederation(
    dir,
    sites.map((s) => ({ siteId: s.siteId, file: overrides[s.siteId] ?? s.file, agentArgs: opts.extraAgentArgs?.[s.siteId] ?? [] })),
    { ...(opts.tls === undefined ? {} : { tls: opts.tls }), ...(opts.coordinatorArgs === undefined ? {} : { coordinatorArgs: opts.coordinatorArgs }),
      ...(opts.coordinatorEnv === undefined ? {} : { coordinatorEnv: opts.coordinatorEnv }),
    },
  );
  return { ...fed, sites };
}
