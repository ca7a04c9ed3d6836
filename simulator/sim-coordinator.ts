// One real coordinator process of a simulation, its virtual sites registered beforehand in one
// transaction, with the REST clients the simulator drives it through, and a watch on its memory.
// A flat simulation starts one; a two-level one starts one per region and the national one.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinatorClient, type RunView } from '../cli/client/client.js';
import { createApiToken, withStore } from '../cli/admin.js';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../cli/spawn.js';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { loadOrCreateKeyPair } from '../shared/key-files.js';
import { residentBytes } from './process-memory.js';

export interface SimCoordinator {
  /** For log lines: 'coordinator', 'national', 'region-03'. */
  name: string;
  url: string;
  /** Its ledger key, which its sites pin. */
  key: string;
  /** As a data scientist (runs, relay steps). */
  client: CoordinatorClient;
  /** As an auditor (ledger verification). */
  auditor: CoordinatorClient;
  process: FedrxProcess;
  memory: MemoryWatch;
  stop(): Promise<void>;
}

/** Starts a coordinator in `dir` for these sites (room for all of them to connect from loopback at once). */
export async function startSimCoordinator(name: string, dir: string, sites: readonly { siteId: string; publicKey: string }[], logDir: string): Promise<SimCoordinator> {
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'coordinator.sqlite');
  withStore(db, (store) => store.db.transaction(() => sites.forEach((s) => store.sites.register(s.siteId, s.publicKey)))());
  const token = createApiToken(db, 'data-scientist', 'fedrx simulate').token;
  const auditorToken = createApiToken(db, 'auditor', 'fedrx simulate').token;
  const keyDir = join(dir, 'coordinator-key');
  const key = loadOrCreateKeyPair(keyDir, 'coordinator').publicKey;
  const room = String(sites.length + 64);
  const proc = spawnFedrx(name, ['coordinator', '--db', db, '--port', '0', '--key-dir', keyDir, '--max-pending-hellos', room, '--max-connections-per-address', room], {
    logFile: join(logDir, `${name}.log`),
  });
  const memory = new MemoryWatch(proc.child.pid ?? null);
  const stop = async (): Promise<void> => {
    memory.stop();
    await proc.stop();
  };
  try {
    const url = (await proc.waitFor(LISTENING, 60_000))[1]!;
    return { name, url, key, client: patientClient(new CoordinatorClient(url, { token })), auditor: new CoordinatorClient(url, { token: auditorToken }), process: proc, memory, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Waits until `n` sites are connected, printing the count as it grows. */
export async function waitForConnected(c: SimCoordinator, n: number, log: (line: string) => void): Promise<void> {
  let shown = -1;
  const until = Date.now() + 30_000 + n * 100;
  for (;;) {
    const connected = (await c.client.health()).sitesConnected;
    if (connected >= n) return;
    if (c.process.child.exitCode !== null) throw new FedrxError('E_INTERNAL', `${c.name} exited:\n${c.process.lines.slice(-10).join('\n')}`);
    if (Date.now() > until) throw new FedrxError('E_DEADLINE', `only ${connected} of ${n} virtual sites connected to ${c.name}`);
    if (connected !== shown) log(`connecting to ${c.name}: ${connected}/${n} sites`);
    shown = connected;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The whole chain, page by page. */
export async function allEntries(client: CoordinatorClient): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for (;;) {
    const page = await client.ledger(out.length, 1000);
    out.push(...page.entries);
    if (page.entries.length === 0 || out.length >= page.length) return out;
  }
}

/**
 * The client with its polls retried: a coordinator busy with a thousand sites' updates can reset an
 * idle keep-alive connection just as the next poll reuses it.
 */
function patientClient(client: CoordinatorClient): CoordinatorClient {
  const run = client.run.bind(client);
  return Object.assign(Object.create(client) as CoordinatorClient, {
    async run(id: string): Promise<RunView> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await run(id);
        } catch (e) {
          if (attempt >= 5 || !isFedrxError(e, 'E_INTERNAL') || !e.message.startsWith('cannot reach')) throw e;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
  });
}

/** Samples a process's RSS twice a second, keeping the peak. */
export class MemoryWatch {
  private max = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number | null) {
    this.timer = setInterval(() => this.now(), 500);
    this.timer.unref();
  }

  now(): number | null {
    const m = this.pid === null ? null : residentBytes(this.pid);
    if (m !== null) this.max = Math.max(this.max, m.peak);
    return m?.rss ?? null;
  }

  peak(): number | null {
    return this.max > 0 ? this.max : null;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
