// A whole federation on this machine: `fedrx site init` (at the site) and `fedrx site register`
// (at the coordinator) for each site, `fedrx token create` for one API token per role, then
// `fedrx coordinator` and one `fedrx agent` per site as separate OS processes on loopback. Used
// by the demo, the end-to-end tests and the benchmarks, so all of them exercise what a hospital
// would run.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinatorClient } from './client/client.js';
import { ROLES, type Role } from '../shared/roles.js';
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
  /** One API token per role (secrets: never print them). */
  tokens: Record<Role, string>;
  /** The public ids of those tokens, e.g. to say which were created. */
  tokenIds: Record<Role, string>;
  /** A client per role, each with its role's token. */
  clients: Record<Role, CoordinatorClient>;
  coordinator: FedrxProcess;
  agents: Map<string, FedrxProcess>;
  replicaDir(siteId: string): string;
  keyDir(siteId: string): string;
  /** Starts a site's agent again with the same arguments (after it was stopped or killed), with `env` added. */
  restartAgent(siteId: string, env?: NodeJS.ProcessEnv): FedrxProcess;
  stop(): Promise<void>;
}

/** Runs a fedrx command to completion; returns its exit code and output lines. */
export async function fedrxCommand(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const p = spawnFedrx(args[0]!, args);
  const code = await p.exited;
  return { code, lines: p.lines };
}

export async function startLocalFederation(dir: string, sites: SiteSpec[], opts: { connectTimeoutMs?: number; tls?: FederationTls; coordinatorArgs?: string[]; coordinatorEnv?: NodeJS.ProcessEnv } = {}): Promise<LocalFederation> {
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const db = join(dir, 'coordinator.sqlite');
  const keyDir = (siteId: string): string => join(dir, 'sites', `${siteId}-key`);
  const run = async (args: string[]): Promise<void> => {
    const r = await fedrxCommand(args);
    if (r.code !== 0) throw new Error(`fedrx ${args.join(' ')} failed:\n${r.lines.join('\n')}`);
  };
  // Each site makes its key pair; the coordinator's admin enrols the public half. Four at a time.
  const queue = [...sites];
  const enrol = async (): Promise<void> => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      await run(['site', 'init', '--out', keyDir(s.siteId)]);
      await run(['site', 'register', '--db', db, '--site', s.siteId, '--public-key', join(keyDir(s.siteId), 'site.pub')]);
    }
  };
  await Promise.all([enrol(), enrol(), enrol(), enrol()]);
  const api = await createRoleTokens(db);
  const tls = opts.tls;
  const coordinatorTls = tls === undefined ? [] : ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile];
  const agentTls = tls === undefined ? [] : ['--tls-ca', tls.certFile, '--tls-pin', tls.fingerprint];
  const coordinator = spawnFedrx('coordinator', ['coordinator', '--db', db, '--port', '0', ...coordinatorTls, ...(opts.coordinatorArgs ?? [])], { logFile: join(logs, 'coordinator.log'), ...(opts.coordinatorEnv === undefined ? {} : { env: opts.coordinatorEnv }) });
  const agents = new Map<string, FedrxProcess>();
  const replicaDir = (siteId: string): string => join(dir, 'replicas', siteId);
  const stop = async (): Promise<void> => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await coordinator.stop();
  };
  try {
    const url = (await coordinator.waitFor(LISTENING, 30_000))[1]!;
    const agentArgs = new Map(sites.map((s) => [s.siteId, ['agent', '--coordinator', url, '--site', s.siteId, '--data', s.file, '--key', keyDir(s.siteId), '--replica-dir', replicaDir(s.siteId), ...agentTls, ...(s.agentArgs ?? [])]]));
    const startAgent = (siteId: string, env?: NodeJS.ProcessEnv): FedrxProcess => {
      const agent = spawnFedrx(siteId, agentArgs.get(siteId)!, { logFile: join(logs, `${siteId}.log`), ...(env === undefined ? {} : { env }) });
      agents.set(siteId, agent);
      return agent;
    };
    for (const s of sites) startAgent(s.siteId);
    const clients = Object.fromEntries(ROLES.map((role) => [role, new CoordinatorClient(url, { token: api.tokens[role], ...(tls === undefined ? {} : { ca: readFileSync(tls.certFile) }) })])) as Record<Role, CoordinatorClient>;
    await waitForSites(clients.admin, sites.length, [...agents.values()], opts.connectTimeoutMs ?? 120_000);
    return { dir, db, url, tokens: api.tokens, tokenIds: api.ids, clients, coordinator, agents, replicaDir, keyDir, restartAgent: startAgent, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

const TOKEN_LINE = /^frx_\S+$/;
const TOKEN_NOTE = /created API token (tok-[0-9a-f]+)/;

/** One `fedrx token create` per role: stdout is the token, stderr names its id. */
async function createRoleTokens(db: string): Promise<{ tokens: Record<Role, string>; ids: Record<Role, string> }> {
  const tokens = {} as Record<Role, string>;
  const ids = {} as Record<Role, string>;
  for (const role of ROLES) {
    const r = await fedrxCommand(['token', 'create', '--db', db, '--role', role, '--label', `local federation ${role}`]);
    const token = r.lines.find((l) => TOKEN_LINE.test(l.trim()));
    const id = r.lines.map((l) => l.match(TOKEN_NOTE)?.[1]).find((x) => x !== undefined);
    if (r.code !== 0 || token === undefined || id === undefined) throw new Error(`fedrx token create --role ${role} failed:\n${r.lines.join('\n')}`);
    tokens[role] = token.trim();
    ids[role] = id;
  }
  return { tokens, ids };
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
