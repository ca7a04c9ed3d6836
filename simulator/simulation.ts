// `fedrx simulate`: a whole federation on one machine. The real coordinator runs as its own
// process (its WebSocket endpoint, ledger and signatures as in production); the sites are virtual:
// real site agents, each with its own key, rows, replica and endorsements, many to a worker thread
// (site-pool.ts). The run is marked as simulated in its configuration and in every ledger entry.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoordinatorClient, type RunView } from '../cli/client/client.js';
import { createApiToken, withStore } from '../cli/admin.js';
import { roundLine } from '../cli/round-format.js';
import { LISTENING, spawnFedrx, type FedrxProcess } from '../cli/spawn.js';
import { ATTACKS, isAttack } from '../shared/byzantine/attacks.js';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { loadOrCreateKeyPair } from '../shared/key-files.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import { generateKeyPair } from '../shared/signing.js';
import type { SimulationSection } from '../shared/simulation.js';
import { partitionLabel, partitionSource, type PartitionChoice, type TargetOf } from './partition-spec.js';
import type { VirtualSiteSpec } from './pool-messages.js';
import { mib, residentBytes } from './process-memory.js';
import { SitePool } from './site-pool.js';
import { writeSiteFiles, type SourceTable } from './source-table.js';

export interface SimulationOptions {
  dir: string;
  sites: number;
  source: SourceTable;
  partition: PartitionChoice;
  /** The study's target (label skew partitions on it). */
  target: TargetOf;
  seed: string;
  threads: number;
  dropout: number;
  stragglers: number;
  straggleMs: number;
  byzantine: number;
  attack: string | null;
  /** POST /v1/runs body without `simulation`, which is added here. */
  run: Record<string, unknown>;
  log: (line: string) => void;
}

export interface SimulationResult {
  /** Virtual sites started (a split by column makes one per value, whatever was asked). */
  sites: number;
  run: RunView;
  ledgerOk: boolean;
  ledgerLength: number;
  simulatedEntries: number;
  secondsPerRound: number[];
  coordinatorPeakRss: number | null;
  /** Growth of this process's RSS per virtual site, measured once all are connected. */
  bytesPerSite: number | null;
}

export async function simulate(o: SimulationOptions): Promise<SimulationResult> {
  checkOptions(o);
  const { log } = o;
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(join(o.dir, 'logs'), { recursive: true });

  const parts = partitionSource(o.source, o.partition, o.sites, o.seed, o.target);
  const sites = parts.length; // a split by column makes one site per value
  const siteIds = Array.from({ length: sites }, (_, i) => `sim-${String(i + 1).padStart(String(sites).length, '0')}`);
  const files = await writeSiteFiles(o.source, parts, siteIds, join(o.dir, 'data'));
  const sizes = parts.map((p) => p.length);
  log(`${sites} virtual sites from ${o.source.label} (${o.source.rows.length} rows), partition ${partitionLabel(o.partition)}: ${Math.min(...sizes)}–${Math.max(...sizes)} rows per site`);

  const specs = siteSpecs(o, siteIds, files);
  const db = join(o.dir, 'coordinator.sqlite');
  withStore(db, (store) => store.db.transaction(() => specs.forEach((s) => store.sites.register(s.siteId, s.publicKey)))());
  const token = createApiToken(db, 'data-scientist', 'fedrx simulate').token;
  const auditorToken = createApiToken(db, 'auditor', 'fedrx simulate').token;
  const coordinatorKey = loadOrCreateKeyPair(join(o.dir, 'coordinator-key'), 'coordinator').publicKey;

  const room = String(sites + 64);
  const coordinator = spawnFedrx('coordinator', ['coordinator', '--db', db, '--port', '0', '--key-dir', join(o.dir, 'coordinator-key'), '--max-pending-hellos', room, '--max-connections-per-address', room], {
    logFile: join(o.dir, 'logs', 'coordinator.log'),
  });
  let pool: SitePool | null = null;
  const memory = new MemoryWatch(coordinator.child.pid ?? null);
  try {
    const url = (await coordinator.waitFor(LISTENING, 60_000))[1]!;
    const client = new CoordinatorClient(url, { token });
    const before = residentBytes('self')?.rss ?? null;
    const started = performance.now();
    pool = await SitePool.start({ threads: o.threads, sites: specs, coordinatorUrl: url, coordinatorKey, logDir: join(o.dir, 'logs') });
    log(`site pools: ${Math.min(o.threads, sites)} threads, tfjs backend ${pool.backend}; agents' logs in ${join(o.dir, 'logs')}`);
    await waitForConnected(client, sites, coordinator, log);
    const after = residentBytes('self')?.rss ?? null;
    const bytesPerSite = before === null || after === null ? null : (after - before) / sites;
    log(`${sites} sites connected in ${((performance.now() - started) / 1000).toFixed(1)} s; simulator memory ${mib(after)} (${bytesPerSite === null ? 'n/a' : `${(bytesPerSite / 1024).toFixed(0)} KiB`} per site), coordinator ${mib(memory.now())}`);

    const run = await client.startRun({ ...o.run, simulation: section(o, sites) });
    log(`run ${run.id} started (config ${run.configHash.slice(0, 16)}), marked simulated on the ledger`);
    const secondsPerRound: number[] = [];
    let last = performance.now();
    const done = await patientClient(client).follow(
      run.id,
      (r, view) => {
        const now = performance.now();
        const s = (now - last) / 1000;
        last = now;
        if (r.round > 0) secondsPerRound.push(s);
        log(`${roundLine(r, view)}\n    ${s.toFixed(1)} s; coordinator ${mib(memory.now())}, simulator ${mib(residentBytes('self')?.rss)}`);
      },
      500,
    );
    const audit = await new CoordinatorClient(url, { token: auditorToken }).verifyLedger();
    const entries = (await allEntries(client)).filter((e) => e.runId === run.id);
    const simulatedEntries = entries.filter((e) => e.simulation !== undefined).length;
    log(`ledger: ${audit.ok ? 'verifies' : `BROKEN at ${audit.badIndex}: ${audit.reason}`}, ${audit.length} entries; ${simulatedEntries} of the run's ${entries.length} entries marked simulated`);
    return { sites, run: done, ledgerOk: audit.ok, ledgerLength: audit.length, simulatedEntries, secondsPerRound, coordinatorPeakRss: memory.peak(), bytesPerSite };
  } finally {
    memory.stop();
    await pool?.stop();
    await coordinator.stop();
  }
}

function checkOptions(o: SimulationOptions): void {
  const share = (name: string, x: number): void => {
    if (!Number.isFinite(x) || x < 0 || x > 1) throw new FedrxError('E_BAD_REQUEST', `${name} must be between 0 and 1, not ${x}`);
  };
  share('--dropout', o.dropout);
  share('--stragglers', o.stragglers);
  share('--hostile', o.byzantine);
  if (!Number.isInteger(o.threads) || o.threads < 1) throw new FedrxError('E_BAD_REQUEST', `--threads must be a whole number ≥ 1, not ${o.threads}`);
  if (!Number.isInteger(o.straggleMs) || o.straggleMs < 0) throw new FedrxError('E_BAD_REQUEST', `--straggle-ms must be a whole number ≥ 0, not ${o.straggleMs}`);
  if (o.byzantine > 0 && o.attack === null) throw new FedrxError('E_BAD_REQUEST', '--hostile needs --attack');
  if (o.attack !== null && !isAttack(o.attack)) throw new FedrxError('E_BAD_REQUEST', `--attack ${o.attack}: one of ${ATTACKS.join(', ')}`);
}

/** Keys and behaviour per site: the first ⌊byzantine·n⌋ of a seeded shuffle are hostile, the next ⌊stragglers·n⌋ late. */
function siteSpecs(o: SimulationOptions, siteIds: string[], files: string[]): VirtualSiteSpec[] {
  const order = siteIds.map((_, i) => i);
  const rng = new Prng(`${o.seed}/roles`);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const hostile = new Set(order.slice(0, Math.floor(o.byzantine * siteIds.length)));
  const late = new Set(order.slice(hostile.size, hostile.size + Math.floor(o.stragglers * siteIds.length)));
  return siteIds.map((siteId, i) => {
    const keys = generateKeyPair();
    return {
      siteId,
      dataFile: files[i]!,
      stateDir: join(o.dir, 'sites', siteId),
      publicKey: keys.publicKey,
      secretKey: keys.secretKey,
      behaviour: { dropout: o.dropout, straggleMs: late.has(i) ? o.straggleMs : 0, attack: hostile.has(i) ? o.attack : null, seed: deriveSeed(o.seed, siteId) },
    };
  });
}

function section(o: SimulationOptions, sites: number): SimulationSection {
  return {
    virtualSites: sites,
    source: o.source.label,
    partition: partitionLabel(o.partition),
    seed: o.seed,
    dropout: o.dropout,
    stragglers: o.stragglers,
    straggleMs: o.straggleMs,
    byzantine: o.byzantine,
    ...(o.attack === null ? {} : { attack: o.attack }),
  };
}

async function waitForConnected(client: CoordinatorClient, n: number, coordinator: FedrxProcess, log: (line: string) => void): Promise<void> {
  let shown = -1;
  const until = Date.now() + 30_000 + n * 100;
  for (;;) {
    const connected = (await client.health()).sitesConnected;
    if (connected >= n) return;
    if (coordinator.child.exitCode !== null) throw new FedrxError('E_INTERNAL', `the coordinator exited:\n${coordinator.lines.slice(-10).join('\n')}`);
    if (Date.now() > until) throw new FedrxError('E_DEADLINE', `only ${connected} of ${n} virtual sites connected`);
    if (connected !== shown) log(`connecting: ${connected}/${n} sites`);
    shown = connected;
    await new Promise((r) => setTimeout(r, 1000));
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

async function allEntries(client: CoordinatorClient): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for (;;) {
    const page = await client.ledger(out.length, 1000);
    out.push(...page.entries);
    if (page.entries.length === 0 || out.length >= page.length) return out;
  }
}

/** Samples the coordinator's RSS twice a second, keeping the peak. */
class MemoryWatch {
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
