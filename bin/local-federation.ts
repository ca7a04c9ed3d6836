// A whole federation on this machine: `fedrx site add` for each site, then `fedrx coordinator`
// and one `fedrx agent` per site as separate OS processes on loopback. Used by the demo, the
// end-to-end tests and the benchmarks, so all of them exercise what a hospital would run.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinatorClient } from '../coordinator/client.js';
import { LISTENING, spawnFedrx, type FedrxProcess } from './spawn.js';

export interface SiteSpec {
  siteId: string;
  /** The site's own CSV. */
  file: string;
  /** Extra `fedrx agent` arguments for this site. */
  agentArgs?: string[];
}

/** A coordinator certificate (from `fedrx tls cert`): served by the coordinator, trusted and pinned by every agent and the client. */
export interface FederationTls {
  certFile: string;
  keyFile: string;
  fingerprint: string;
}

export interface LocalFederation {
  dir: string;
  db: string;
  url: string;
  client: CoordinatorClient;
  coordinator: FedrxProcess;
  agents: Map<string, FedrxProcess>;
  replicaDir(siteId: string): string;
  stop(): Promise<void>;
}

/** Runs a fedrx command to completion; returns its exit code and output lines. */
export async function fedrxCommand(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const p = spawnFedrx(args[0]!, args);
  const code = await p.exited;
  return { code, lines: p.lines };
}

export async function startLocalFederation(dir: string, sites: SiteSpec[], opts: { connectTimeoutMs?: number; tls?: FederationTls } = {}): Promise<LocalFederation> {
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const db = join(dir, 'coordinator.sqlite');
  const tokens = new Map<string, string>();
  for (const s of sites) {
    const r = await fedrxCommand(['site', 'add', '--db', db, '--site', s.siteId]);
    if (r.code !== 0) throw new Error(`fedrx site add ${s.siteId} failed:\n${r.lines.join('\n')}`);
    tokens.set(s.siteId, r.lines.at(-1)!.trim());
  }
  const tls = opts.tls;
  const coordinatorTls = tls === undefined ? [] : ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile];
  const agentTls = tls === undefined ? [] : ['--tls-ca', tls.certFile, '--tls-pin', tls.fingerprint];
  const coordinator = spawnFedrx('coordinator', ['coordinator', '--db', db, '--port', '0', ...coordinatorTls], { logFile: join(logs, 'coordinator.log') });
  const agents = new Map<string, FedrxProcess>();
  const replicaDir = (siteId: string): string => join(dir, 'replicas', siteId);
  const stop = async (): Promise<void> => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await coordinator.stop();
  };
  try {
    const url = (await coordinator.waitFor(LISTENING, 30_000))[1]!;
    for (const s of sites) {
      const args = ['agent', '--coordinator', url, '--site', s.siteId, '--data', s.file, '--token', tokens.get(s.siteId)!, '--replica-dir', replicaDir(s.siteId)];
      agents.set(s.siteId, spawnFedrx(s.siteId, [...args, ...agentTls, ...(s.agentArgs ?? [])], { logFile: join(logs, `${s.siteId}.log`) }));
    }
    const client = new CoordinatorClient(url, tls === undefined ? {} : { ca: readFileSync(tls.certFile) });
    await waitForSites(client, sites.length, [...agents.values()], opts.connectTimeoutMs ?? 120_000);
    return { dir, db, url, client, coordinator, agents, replicaDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitForSites(client: CoordinatorClient, n: number, procs: FedrxProcess[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const connected = (await client.sites()).sites.filter((s) => s.connected).length;
    if (connected >= n) return;
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead !== undefined) throw new Error(`${dead.name} exited early:\n${dead.lines.slice(-10).join('\n')}`);
    if (Date.now() > until) throw new Error(`only ${connected} of ${n} sites connected after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
