// Starts a real federation for end-to-end tests: `fedrx site add`, `fedrx coordinator` and
// `fedrx agent` as separate OS processes on loopback, with a temp SQLite file.

import { join } from 'node:path';
import { CoordinatorClient } from '../../coordinator/client.js';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../../bin/spawn.js';
import { generateSiteCsvs, type GeneratedSite } from '../../datasets/generate.js';

export interface Federation {
  dir: string;
  db: string;
  url: string;
  client: CoordinatorClient;
  coordinator: FedrxProcess;
  agents: Map<string, FedrxProcess>;
  sites: GeneratedSite[];
  stop(): Promise<void>;
}

/** Runs a fedrx command to completion; returns its exit code and output lines. */
export async function fedrxCommand(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const p = spawnFedrx(args[0]!, args);
  const code = await p.exited;
  return { code, lines: p.lines };
}

export async function startFederation(
  dir: string,
  opts: {
    sites: number;
    extraAgentArgs?: Record<string, string[]>;
    /** Called after the cohorts are written: returns data files to use instead, by site id. */
    dataFiles?: (sites: GeneratedSite[]) => Record<string, string>;
  },
): Promise<Federation> {
  const sites = await generateSiteCsvs({ sites: opts.sites, outDir: join(dir, 'sites'), seed: 'e2e' });
  const db = join(dir, 'coordinator.sqlite');
  const tokens = new Map<string, string>();
  for (const s of sites) {
    const r = await fedrxCommand(['site', 'add', '--db', db, '--site', s.siteId]);
    if (r.code !== 0) throw new Error(`site add failed: ${r.lines.join('\n')}`);
    tokens.set(s.siteId, r.lines.at(-1)!.trim());
  }
  const coordinator = spawnFedrx('coordinator', ['coordinator', '--db', db, '--port', '0'], { logFile: join(dir, 'coordinator.log') });
  const url = (await coordinator.waitFor(LISTENING, 30_000))[1]!;
  const agents = new Map<string, FedrxProcess>();
  const overrides = opts.dataFiles?.(sites) ?? {};
  for (const s of sites) {
    const data = overrides[s.siteId] ?? s.file;
    const args = ['agent', '--coordinator', url, '--site', s.siteId, '--data', data, '--token', tokens.get(s.siteId)!, '--replica-dir', join(dir, 'replicas', s.siteId)];
    agents.set(s.siteId, spawnFedrx(s.siteId, [...args, ...(opts.extraAgentArgs?.[s.siteId] ?? [])], { logFile: join(dir, `${s.siteId}.log`) }));
  }
  const client = new CoordinatorClient(url);
  const until = Date.now() + 60_000;
  while ((await client.sites()).sites.filter((s) => s.connected).length < sites.length) {
    if (Date.now() > until) throw new Error('agents did not connect');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    dir,
    db,
    url,
    client,
    coordinator,
    agents,
    sites,
    async stop() {
      await Promise.all([...agents.values()].map((a) => a.stop()));
      await coordinator.stop();
    },
  };
}
