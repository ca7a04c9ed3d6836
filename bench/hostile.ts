// Hostile-client benchmark: each attack of issue 10 against a real coordinator process while 3
// real agent processes run a federated training run beside it.
//   node bin/run-ts.mjs bench/hostile.ts          (npm run bench:hostile)
// Per attack: how long the coordinator takes to refuse it (median), how much its RSS grows (peak
// over the run, against the RSS just before), and the run's wall time as a ratio to a clean run
// measured in the same benchmark. The attackers connect from other loopback addresses than the
// agents (127.0.0.2 and up). Writes the figures to bench-out/hostile/hostile.json.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalFederation, type LocalFederation } from '../cli/local-federation.js';
import { generateSiteCsvs } from '../datasets/generate.js';
import { generateKeyPair, type KeyPair } from '../shared/signing.js';
import { OPCODE_BINARY, OPCODE_TEXT, RawWs } from '../test/helpers/raw-ws.js';

const SITES = 3;
const ROUNDS = 4;
const MB = 1024 * 1024;
const OUT = join('bench-out', 'hostile');
// Short HTTP timeouts so that stalled requests end within the benchmark (defaults: 20 s and 120 s).
const COORDINATOR_ARGS = ['--headers-timeout', '5', '--request-timeout', '5'];

interface AttackResult {
  /** Milliseconds from the attack's first byte to the coordinator's refusal, one per attempt. */
  refusalMs: number[];
  note: string;
}

type Attack = (ctx: Ctx, running: () => boolean) => Promise<AttackResult>;

interface Ctx {
  fed: LocalFederation;
  /** A site of the run, whose id the forged hellos claim. */
  victim: string;
  attackers: { siteId: string; keys: KeyPair }[];
}

// ---- the attacks ------------------------------------------------------------------------------

/** Sends one frame header declaring `declared` bytes and streams them until the coordinator closes. */
async function oversizedFrame(ws: RawWs, opcode: number, declared: number): Promise<{ ms: number; accepted: number; code: number | null }> {
  const t0 = performance.now();
  ws.sendHeader(opcode, declared);
  const accepted = await ws.stream(declared);
  await Promise.race([ws.ended, new Promise((r) => setTimeout(r, 10_000))]);
  const ms = performance.now() - t0;
  ws.destroy();
  return { ms, accepted, code: ws.closeCode };
}

const tally = (counts: Map<string, number>): string => [...counts].map(([what, n]) => `${n}× ${what}`).join(', ');

/**
 * Opens a WebSocket from `localAddress`; an upgrade the coordinator refuses with 429 (the address
 * failed too many hellos) is counted as a refusal, with its time, and gives null.
 */
async function upgradeOr429(url: string, localAddress: string, refusalMs: number[], counts: Map<string, number>): Promise<RawWs | null> {
  const t0 = performance.now();
  try {
    return await RawWs.open(url, { localAddress });
  } catch (e) {
    if (!/ 429 /.test((e as Error).message)) throw e;
    refusalMs.push(performance.now() - t0);
    counts.set('429 at the upgrade', (counts.get('429 at the upgrade') ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 10)); // an attacker's pace, not a busy loop on a shared machine
    return null;
  }
}

const frameBeforeHello =
  (declared: number, localAddress: string): Attack =>
  async (ctx, running) => {
    const refusalMs: number[] = [];
    const codes = new Map<string, number>();
    let maxAccepted = 0;
    do {
      const ws = await upgradeOr429(ctx.fed.url, localAddress, refusalMs, codes);
      if (ws === null) continue;
      await ws.next((m) => m.type === 'challenge');
      const r = await oversizedFrame(ws, OPCODE_TEXT, declared);
      refusalMs.push(r.ms);
      codes.set(`closed ${String(r.code)}`, (codes.get(`closed ${String(r.code)}`) ?? 0) + 1);
      maxAccepted = Math.max(maxAccepted, r.accepted);
    } while (running());
    return { refusalMs, note: `${tally(codes)}; at most ${(maxAccepted / MB).toFixed(1)} MB written before a close` };
  };

const binaryAfterHello: Attack = async (ctx, running) => {
  const refusalMs: number[] = [];
  let maxAccepted = 0;
  do {
    const sockets = await Promise.all(
      ctx.attackers.map(async (a) => {
        const ws = await RawWs.open(ctx.fed.url, { localAddress: '127.0.0.3' });
        const welcome = await ws.hello(a.siteId, a.keys);
        if (welcome.type !== 'welcome') throw new Error(`attacker site not admitted: ${JSON.stringify(welcome)}`);
        return ws;
      }),
    );
    for (const r of await Promise.all(sockets.map((ws) => oversizedFrame(ws, OPCODE_BINARY, 200 * MB)))) {
      refusalMs.push(r.ms);
      maxAccepted = Math.max(maxAccepted, r.accepted);
    }
  } while (running());
  return { refusalMs, note: `4 concurrent; at most ${(maxAccepted / MB).toFixed(1)} MB written before the close` };
};

const stalledRequests: Attack = async (ctx) => {
  const url = new URL(ctx.fed.url);
  const t0 = performance.now();
  const closes = await Promise.all(
    Array.from({ length: 300 }, async () => {
      const s = net.connect({ host: url.hostname, port: Number(url.port), localAddress: '127.0.0.4' });
      s.on('error', () => {});
      let reply = '';
      s.on('data', (d: Buffer) => (reply += d.toString())); // reading lets the coordinator's FIN be seen
      const closed = new Promise<{ ms: number; reply: string }>((r) => s.once('close', () => r({ ms: performance.now() - t0, reply: reply.slice(0, 12) })));
      // A data scientist's token: the body is awaited, as for a real run request (without one it is a 401 at once).
      const head = `POST /v1/runs HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${ctx.fed.tokens['data-scientist']}\r\n`;
      s.once('connect', () => s.write(`${head}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"rounds":`));
      return closed;
    }),
  );
  const counts = new Map<string, number>();
  for (const c of closes) {
    const what = c.reply === '' ? 'closed at connect (over the per-address cap)' : c.reply.startsWith('HTTP/1.1 408') ? 'held until 408 (request timeout, 5 s here)' : `answered ${c.reply}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return { refusalMs: closes.map((c) => c.ms), note: tally(counts) };
};

const forgedHellos: Attack = async (ctx, running) => {
  const refusalMs: number[] = [];
  const codes = new Map<string, number>();
  do {
    const ws = await upgradeOr429(ctx.fed.url, '127.0.0.5', refusalMs, codes);
    if (ws === null) continue;
    await ws.next((m) => m.type === 'challenge');
    const t0 = performance.now();
    const answer = await ws.hello(ctx.victim, generateKeyPair());
    refusalMs.push(performance.now() - t0);
    codes.set(String(answer.code), (codes.get(String(answer.code)) ?? 0) + 1);
    ws.destroy();
  } while (running());
  return { refusalMs, note: tally(codes) };
};

const unboundedLimit: Attack = async (ctx, running) => {
  const refusalMs: number[] = [];
  const statuses = new Map<string, number>();
  const auditor = ctx.fed.tokens.auditor;
  do {
    for (const q of ['limit=Infinity', `limit=${'9'.repeat(309)}`]) {
      const t0 = performance.now();
      const res = await fetch(`${ctx.fed.url}/v1/ledger?${q}`, { headers: { authorization: `Bearer ${auditor}` } });
      await res.text();
      refusalMs.push(performance.now() - t0);
      statuses.set(`HTTP ${res.status}`, (statuses.get(`HTTP ${res.status}`) ?? 0) + 1);
    }
  } while (running());
  return { refusalMs, note: tally(statuses) };
};

const outsiderDisputes: Attack = async (ctx, running) => {
  const refusalMs: number[] = [];
  const codes = new Map<string, number>();
  const a = ctx.attackers[0]!;
  do {
    const ws = await RawWs.open(ctx.fed.url, { localAddress: '127.0.0.6' });
    await ws.hello(a.siteId, a.keys);
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const seen = ws.received.length;
      ws.sendText(JSON.stringify({ type: 'dispute', v: 1, index: 0, code: 'E_ENTRY_DISPUTED', reason: 'flood' }));
      const answer = await ws.next((m) => m.type === 'error' && ws.received.indexOf(m) >= seen);
      refusalMs.push(performance.now() - t0);
      codes.set(String(answer.code), (codes.get(String(answer.code)) ?? 0) + 1);
    }
    ws.destroy();
  } while (running());
  const recorded = (await ctx.fed.clients.auditor.endorsements()).disputes.filter((d) => d.siteId === a.siteId).length;
  return { refusalMs, note: `${tally(codes)}; ${recorded} recorded` };
};

const ATTACKS: [string, Attack][] = [
  ['1: 30 MB text frame before hello', frameBeforeHello(30 * MB, '127.0.0.2')],
  ['1: 250 MB text frame before hello', frameBeforeHello(250 * MB, '127.0.0.7')],
  ['1: 4 × 200 MB binary frames after hello', binaryAfterHello],
  ['2: 300 stalled POST bodies, one address', stalledRequests],
  ['6: forged hellos (registered id, wrong key)', forgedHellos],
  ['7: GET /v1/ledger?limit=Infinity or 309 digits', unboundedLimit],
  ['8b: disputes by a non-participant', outsiderDisputes],
];

// ---- measuring --------------------------------------------------------------------------------

function rssBytes(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** Samples the coordinator's RSS every 20 ms until stopped; returns the peak. */
function rssSampler(pid: number): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

async function timedRun(fed: LocalFederation): Promise<number> {
  const scientist = fed.clients['data-scientist'];
  const t0 = performance.now();
  const run = await scientist.startRun({ rounds: ROUNDS, minSites: SITES, roundTimeoutSec: 120, waitForSitesSec: 60 });
  const done = await scientist.follow(run.id, () => {}, 100);
  if (done.status !== 'completed') throw new Error(`run ${run.id} ${done.status}: ${done.error ?? ''}`);
  return performance.now() - t0;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const started = performance.now();
  rmSync(OUT, { recursive: true, force: true });
  const cohorts = await generateSiteCsvs({ sites: SITES, outDir: join(OUT, 'sites'), seed: 'bench-hostile' });
  const fed = await startLocalFederation(OUT, cohorts.map((c) => ({ siteId: c.siteId, file: c.file })), { coordinatorArgs: COORDINATOR_ARGS });
  try {
    const pid = fed.coordinator.child.pid!;
    // Registered sites that take part in no run: the attackers of findings 1 (after hello) and 8b.
    const attackers = Array.from({ length: 4 }, (_, i) => ({ siteId: `intruder-${i + 1}`, keys: generateKeyPair() }));
    for (const a of attackers) await fed.clients.admin.registerSite(a.siteId, a.keys.publicKey);
    const ctx: Ctx = { fed, victim: cohorts[0]!.siteId, attackers };

    console.log(`coordinator pid ${pid}, ${SITES} agents; each run: ${ROUNDS} rounds`);
    await timedRun(fed); // warm-up: first-run compilation and caches
    // Each attacked run is compared with a clean run just before it: this machine's load drifts.
    const clean: number[] = [];

    const rows: { attack: string; attempts: number; refusalMs: number; maxRefusalMs: number; rssGrowthMB: number; cleanMs: number; runMs: number; runRatio: number; note: string }[] = [];
    for (const [name, attack] of ATTACKS) {
      const cleanMs = await timedRun(fed);
      clean.push(cleanMs);
      const rss0 = rssBytes(pid);
      const sampler = rssSampler(pid);
      let running = true;
      const runP = timedRun(fed).finally(() => (running = false));
      const [runMs, result] = await Promise.all([runP, attack(ctx, () => running)]);
      const peak = sampler.stop();
      const row = {
        attack: name,
        attempts: result.refusalMs.length,
        refusalMs: median(result.refusalMs),
        maxRefusalMs: Math.max(...result.refusalMs),
        rssGrowthMB: (peak - rss0) / MB,
        cleanMs,
        runMs,
        runRatio: runMs / cleanMs,
        note: result.note,
      };
      rows.push(row);
      console.log(`  ${name}: ${row.attempts} attempts, refusal ${row.refusalMs.toFixed(1)} ms median, RSS +${row.rssGrowthMB.toFixed(1)} MB, run ×${row.runRatio.toFixed(2)}`);
      // Let the stalled sockets and refused connections drain before the next attack.
      await new Promise((r) => setTimeout(r, 500));
    }
    const health = await fed.clients.admin.health();

    console.log('');
    console.log('| attack (finding) | attempts | time to refusal, median (max) | coordinator RSS growth | run time under attack / clean run just before | what happened |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.attack} | ${r.attempts} | ${r.refusalMs.toFixed(1)} ms (${r.maxRefusalMs.toFixed(0)} ms) | ${r.rssGrowthMB.toFixed(1)} MB | ` +
          `×${r.runRatio.toFixed(2)} (${(r.runMs / 1000).toFixed(1)} s / ${(r.cleanMs / 1000).toFixed(1)} s) | ${r.note} |`,
      );
    }
    console.log('');
    console.log(`coordinator still healthy: ${health.ok}, ${health.sitesConnected} sites connected; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
    writeFileSync(join(OUT, 'hostile.json'), JSON.stringify({ sites: SITES, rounds: ROUNDS, clean, rows }, null, 2));
  } finally {
    await fed.stop();
  }
}

await main();
