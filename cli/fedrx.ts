// `fedrx`: every command of the platform. Each action is a thin shell over a module that does
// the work, so the same code runs from the CLI, the demo and the tests.

import { Command, Option } from 'commander';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROLES, type Role } from '../shared/roles.js';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import { addRunStartCommand, TOKEN_HELP } from './run-start-command.js';
import { registerPrivacyCommands } from './privacy-command.js';
import { registerSimulateCommand } from './simulate-command.js';
import { registerRegionCommand } from './region-command.js';
import { positive, positiveSeconds } from './number-flags.js';
import { registerStudyCommands } from './study-command.js';

const program = new Command('fedrx')
  .description('Federated learning for precision medicine: coordinator, site agents, verifiable ledger')
  .showHelpAfterError();

function fail(e: unknown): never {
  if (isFedrxError(e)) console.error(`error ${e.code}: ${e.message}`);
  else console.error(`error: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
}

const action =
  <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
  (...args: A): Promise<void> =>
    fn(...args).catch(fail);

program
  .command('coordinator')
  .description('run the coordinator: HTTP API and the agents\' WebSocket endpoint on one port, SQLite store')
  .requiredOption('--db <file>', 'SQLite file (created if missing)')
  .option('--port <n>', 'port to listen on (0 picks a free one)', '7600')
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option('--read-only', 'start on a ledger that fails verification, serving read-only routes for investigation')
  .option('--key-dir <dir>', 'folder of the coordinator\'s ledger-signing key, created on first start (default: coordinator-key/ beside the db)')
  .option('--max-frame-mb <n>', 'largest WebSocket frame accepted from an agent', '256')
  .option('--heartbeat-sec <s>', 'ping each agent this often; one that has not answered the previous ping is disconnected', '15')
  .option('--stream-idle-sec <s>', 'a chunked update with no chunk for this long is refused (E_STREAM_DEADLINE)', '60')
  .option('--tls-cert <file>', 'serve HTTPS and WSS with this certificate (PEM, leaf first; with --tls-key)')
  .option('--tls-key <file>', 'the certificate\'s private key (PEM; with --tls-cert)')
  .option('--headers-timeout <sec>', 'time a client has to send its request headers', '20')
  .option('--request-timeout <sec>', 'time a client has to send a whole request, body included', '120')
  .option('--keep-alive-timeout <sec>', 'an idle keep-alive connection is closed after this', '10')
  .option('--max-connections-per-address <n>', 'concurrent connections per client address, admitted sites\' not counted', '64')
  .option('--max-pending-hellos <n>', 'agent connections waiting for their hello at once, from all addresses', '256')
  .action(
    action(async (o: {
      db: string; port: string; host: string; readOnly?: boolean; keyDir?: string; maxFrameMb: string; heartbeatSec: string; streamIdleSec: string; tlsCert?: string; tlsKey?: string;
      headersTimeout: string; requestTimeout: string; keepAliveTimeout: string; maxConnectionsPerAddress: string; maxPendingHellos: string;
    }) => {
      const { runCoordinator } = await import('../coordinator/main.js');
      await runCoordinator({
        limits: {
          headersTimeoutMs: positiveSeconds(o.headersTimeout, '--headers-timeout') * 1000,
          requestTimeoutMs: positiveSeconds(o.requestTimeout, '--request-timeout') * 1000,
          keepAliveTimeoutMs: positiveSeconds(o.keepAliveTimeout, '--keep-alive-timeout') * 1000,
          maxConnectionsPerAddress: Number(o.maxConnectionsPerAddress),
          maxPendingHellos: Number(o.maxPendingHellos),
        },
        db: o.db,
        port: Number(o.port),
        host: o.host,
        readOnly: o.readOnly ?? false,
        maxFrameBytes: Number(o.maxFrameMb) * 1024 * 1024,
        heartbeatMs: positiveSeconds(o.heartbeatSec, '--heartbeat-sec') * 1000,
        streamIdleMs: positiveSeconds(o.streamIdleSec, '--stream-idle-sec') * 1000,
        ...(o.keyDir === undefined ? {} : { keyDir: o.keyDir }),
        tlsCert: o.tlsCert,
        tlsKey: o.tlsKey,
      });
    }),
  );

program
  .command('agent')
  .description('run a site agent: trains on the local CSV, sends weight updates only')
  .requiredOption('--coordinator <url>', 'coordinator URL, e.g. http://127.0.0.1:7600')
  .requiredOption('--site <id>', 'this site\'s registered id')
  .requiredOption('--data <file.csv>', 'the site\'s local cohort (never leaves this process)')
  .requiredOption('--key <dir>', 'folder with this site\'s key pair, made by `fedrx site init`')
  .option('--coordinator-key <file|hex>', 'the coordinator\'s ledger public key (default: pinned on first contact)')
  .option('--replica-dir <dir>', 'the agent\'s state folder: its copy of the ledger, its endorsements and the answers kept for redone rounds', '.fedrx/replica')
  .option('--column-map <file.json>', 'JSON object mapping study column names to this CSV\'s column names')
  .option('--drop-bad-rows', 'leave out rows with a value of the wrong type, out of range or of an unknown level (counted in the log) instead of refusing the file')
  .option('--tls-ca <file>', 'extra trusted CA certificate(s), PEM: the hospital\'s CA or the coordinator\'s self-signed certificate')
  .option('--tls-pin <sha256>', 'refuse any coordinator certificate without this SHA-256 fingerprint (64 hex digits, colons optional)')
  .option('--max-epsilon <e>', "this site's own privacy budget: refuse training that would take its ε (from its replica) past E, and training without DP")
  .option('--chunk-mb <n>', 'an update larger than this goes as a stream of chunks this size, with back-pressure', '4')
  .action(
    action(async (o: { coordinator: string; site: string; data: string; key: string; coordinatorKey?: string; replicaDir: string; columnMap?: string; dropBadRows?: boolean; tlsCa?: string; tlsPin?: string; maxEpsilon?: string; chunkMb: string }) => {
      const { runAgent } = await import('../site-agent/main.js');
      const { positiveEpsilon } = await import('./privacy-report.js');
      const { parsePublicKey, readPublicKeyFile } = await import('../shared/key-files.js');
      const columnMap = o.columnMap === undefined ? undefined : (JSON.parse(readFileSync(o.columnMap, 'utf8')) as Record<string, string>);
      const k = o.coordinatorKey;
      await runAgent({
        coordinatorUrl: o.coordinator,
        siteId: o.site,
        dataFile: o.data,
        keyDir: o.key,
        coordinatorKey: k === undefined ? undefined : /^[0-9a-fA-F]{64}$/.test(k) ? parsePublicKey(k, '--coordinator-key') : readPublicKeyFile(k),
        replicaDir: o.replicaDir,
        columnMap,
        dropBadRows: o.dropBadRows,
        tlsCa: o.tlsCa,
        tlsPin: o.tlsPin,
        maxEpsilon: o.maxEpsilon === undefined ? undefined : positiveEpsilon(o.maxEpsilon, '--max-epsilon'),
        chunkBytes: Math.max(4, Math.round(positive(o.chunkMb, '--chunk-mb', 'MB') * 1024 * 1024)),
      });
    }),
  );

const site = program.command('site').description('site identities: make a key pair at the site, enrol or revoke it at the coordinator');
site
  .command('init')
  .description('at the site: make its Ed25519 key pair (site.key, mode 0600, and site.pub to give the coordinator\'s admin)')
  .requiredOption('--out <dir>', 'folder for the key pair')
  .action(
    action(async (o: { out: string }) => {
      const { createKeyFiles } = await import('../shared/key-files.js');
      const k = createKeyFiles(o.out, 'site');
      console.log(`secret key ${k.files.secret} (mode 0600: keep it at the site)`);
      console.log(`public key ${k.files.public}: ${k.publicKey}`);
    }),
  );
site
  .command('register')
  .description('on the coordinator\'s host: enrol a site by its public key (or give it a new key, or reinstate it)')
  .requiredOption('--db <file>', 'coordinator SQLite file')
  .requiredOption('--site <id>', 'site id')
  .requiredOption('--public-key <file>', 'the site\'s site.pub')
  .action(
    action(async (o: { db: string; site: string; publicKey: string }) => {
      const { registerSite } = await import('./admin.js');
      console.log(registerSite(o.db, o.site, o.publicKey));
    }),
  );
site
  .command('revoke')
  .description('on the coordinator\'s host: refuse a site from now on (its past signatures stay verifiable)')
  .requiredOption('--db <file>', 'coordinator SQLite file')
  .requiredOption('--site <id>', 'site id')
  .action(
    action(async (o: { db: string; site: string }) => {
      const { revokeSite } = await import('./admin.js');
      console.log(revokeSite(o.db, o.site));
    }),
  );

const token = program.command('token').description('manage the API tokens of admins, data scientists, clinicians and auditors');
token
  .command('create')
  .description('create an API token of one role; prints only the token (stored hashed, shown once)')
  .requiredOption('--db <file>', 'coordinator SQLite file')
  .addOption(new Option('--role <role>', 'what the token may do').choices(ROLES).makeOptionMandatory())
  .option('--label <text>', 'who or what holds it, e.g. "dr-jones" (shown in token lists)')
  .action(
    action(async (o: { db: string; role: Role; label?: string }) => {
      const { createApiToken } = await import('./admin.js');
      const t = createApiToken(o.db, o.role, o.label);
      console.log(t.token);
      console.error(`created API token ${t.id} (role ${t.role}${t.label === null ? '' : `, label ${t.label}`}); it is not stored and cannot be shown again`);
    }),
  );

const TLS_CA_HELP = 'extra trusted CA certificate(s), PEM, for an https coordinator (default: $FEDRX_TLS_CA)';

const run = program.command('run').description('launch, follow, list and cancel training runs');
addRunStartCommand(run, action);
run
  .command('status <id>')
  .description('show a run and its rounds')
  .requiredOption('--coordinator <url>', 'coordinator URL')
  .option('--token <t>', TOKEN_HELP)
  .option('--tls-ca <file>', 'extra trusted CA certificate(s), PEM, for an https coordinator (default: $FEDRX_TLS_CA)')
  .action(
    action(async (id: string, o: { coordinator: string; token?: string; tlsCa?: string }) => {
      const { runStatusCommand } = await import('./remote-commands.js');
      process.exitCode = await runStatusCommand(o.coordinator, id, o);
    }),
  );
run
  .command('list')
  .description('list the runs, newest first: status, strategy, rounds done / planned, best round, times, and why each ended')
  .requiredOption('--coordinator <url>', 'coordinator URL')
  .option('--limit <n>', 'how many of the newest runs', '100')
  .option('--json', 'print the runs as JSON instead of a table')
  .option('--token <t>', TOKEN_HELP)
  .option('--tls-ca <file>', TLS_CA_HELP)
  .action(
    action(async (o: { coordinator: string; limit: string; json?: boolean; token?: string; tlsCa?: string }) => {
      const { runListCommand } = await import('./run-list.js');
      process.exitCode = await runListCommand(o.coordinator, o);
    }),
  );
run
  .command('cancel <id>')
  .description('cancel a run (data scientist or admin): a queued run at once; a running one stops at once, its round in flight not committed')
  .requiredOption('--coordinator <url>', 'coordinator URL')
  .option('--token <t>', TOKEN_HELP)
  .option('--tls-ca <file>', TLS_CA_HELP)
  .action(
    action(async (id: string, o: { coordinator: string; token?: string; tlsCa?: string }) => {
      const { runCancelCommand } = await import('./remote-commands.js');
      process.exitCode = await runCancelCommand(o.coordinator, id, o);
    }),
  );

program
  .command('predict')
  .description('ask the current model for a patient\'s predicted response')
  .requiredOption('--coordinator <url>', 'coordinator URL')
  .requiredOption('--input <file>', 'patient.json (one JSON object of the study\'s columns) or patients.csv (one patient per row)')
  .option('--out <predictions.csv>', 'for a CSV input: where to write the predictions (default: stdout)')
  .option('--run <id>', 'use the latest model of this run (default: the latest committed model)')
  .option('--model <hash>', 'use this model hash')
  .option('--token <t>', TOKEN_HELP)
  .option('--tls-ca <file>', 'extra trusted CA certificate(s), PEM, for an https coordinator (default: $FEDRX_TLS_CA)')
  .action(
    action(async (o: { coordinator: string; input: string; out?: string; run?: string; model?: string; token?: string; tlsCa?: string }) => {
      const { predictCommand } = await import('./predict-command.js');
      await predictCommand(o);
    }),
  );

const tlsCommand = program.command('tls').description('certificates for serving the coordinator over HTTPS/WSS');
tlsCommand
  .command('cert')
  .description('write a self-signed certificate and key (mode 0600) for the coordinator with openssl; prints their paths and the SHA-256 fingerprint the sites pin')
  .requiredOption('--out <dir>', 'folder for cert.pem and key.pem (existing files are never overwritten)')
  .addOption(
    new Option('--host <name>', 'a host name or IP address the agents and clients use to reach the coordinator (repeatable)')
      .argParser((v: string, prev: string[]) => [...prev, v])
      .default([] as string[], 'localhost and 127.0.0.1'),
  )
  .option('--days <n>', 'validity in days', '365')
  .action(
    action(async (o: { out: string; host: string[]; days: string }) => {
      const { makeSelfSignedCert } = await import('./tls-cert.js');
      const c = makeSelfSignedCert({ outDir: o.out, hosts: o.host, days: Number(o.days) });
      console.log(`cert\t${c.certFile}`);
      console.log(`key\t${c.keyFile}`);
      console.log(`sha256\t${c.fingerprint}`);
      console.error(`coordinator: --tls-cert ${c.certFile} --tls-key ${c.keyFile}; sites: --tls-pin ${c.fingerprint} (with --tls-ca ${c.certFile}, or the pin alone)`);
    }),
  );

const ledger = program.command('ledger').description('inspect the hash-chain ledger');
ledger
  .command('verify')
  .description('check hashes, links, signatures and endorsements, one line per entry, and (--db) that no table or the signed head file beside it points past the ledger: exit 0 intact and endorsed, 2 broken (names the first bad index; also an unreadable database file), 3 intact but not all endorsed')
  .option('--db <file>', 'the coordinator\'s SQLite file')
  .option('--replica <dir>', 'a site\'s replica folder (its --replica-dir)')
  .action(
    action(async (o: { db?: string; replica?: string }) => {
      const { verifyDb, verifyReplica } = await import('./ledger-commands.js');
      if ((o.db === undefined) === (o.replica === undefined)) throw new FedrxError('E_BAD_REQUEST', 'give exactly one of --db and --replica');
      process.exitCode = o.db !== undefined ? verifyDb(o.db) : await verifyReplica(o.replica!);
    }),
  );
ledger
  .command('diff')
  .description('show where a site\'s replica and the coordinator\'s ledger disagree: exit 0 if they agree (the replica may be behind), 1 if not (a coordinator holding fewer entries than the replica disagrees)')
  .requiredOption('--replica <dir>', 'a site\'s replica folder')
  .option('--db <file>', 'the coordinator\'s SQLite file')
  .option('--coordinator <url>', 'or a running coordinator (with an auditor\'s or data scientist\'s token)')
  .option('--token <t>', TOKEN_HELP)
  .option('--tls-ca <file>', 'extra trusted CA certificate(s), PEM, for an https coordinator (default: $FEDRX_TLS_CA)')
  .action(
    action(async (o: { replica: string; db?: string; coordinator?: string; token?: string; tlsCa?: string }) => {
      const { diffLedger } = await import('./ledger-commands.js');
      if ((o.db === undefined) === (o.coordinator === undefined)) throw new FedrxError('E_BAD_REQUEST', 'give exactly one of --db and --coordinator');
      process.exitCode = await diffLedger(o);
    }),
  );

const datasets = program.command('datasets').description('synthetic cohorts');
datasets
  .command('generate')
  .description('write one seeded synthetic cohort CSV per site, and the study file that reads them')
  .requiredOption('--sites <n>', 'number of sites')
  .requiredOption('--out <dir>', 'output folder')
  .option('--seed <s>', 'seed', 'fedrx-synthetic-v1')
  .option('--patients <n>', 'total patients over all sites')
  .action(
    action(async (o: { sites: string; out: string; seed: string; patients?: string }) => {
      const { generateSiteCsvs } = await import('../datasets/generate.js');
      const sites = await generateSiteCsvs({
        sites: Number(o.sites),
        outDir: o.out,
        seed: o.seed,
        ...(o.patients === undefined ? {} : { totalPatients: Number(o.patients) }),
      });
      for (const s of sites) console.log(`${s.siteId}\t${s.rows} patients\t${s.file}`);
      const study = join(o.out, 'synthetic-warfarin.json');
      copyFileSync(fileURLToPath(new URL('../datasets/studies/synthetic-warfarin.json', import.meta.url)), study);
      console.log(`study\t${study}`);
    }),
  );

program
  .command('demo')
  .description('a real federation on this machine: coordinator + site agents as separate processes')
  .option('--dir <dir>', 'data folder for the demo', 'fedrx-demo')
  .option('--sites <n>', 'number of site agents', '4')
  .option('--rounds <r>', 'training rounds', '6')
  .option('--keep', 'leave the coordinator and the agents running afterwards, for the dashboard (Ctrl-C stops them)')
  .action(
    action(async (o: { dir: string; sites: string; rounds: string; keep?: boolean }) => {
      const { runDemo } = await import('./demo.js');
      process.exitCode = await runDemo({ dir: o.dir, sites: Number(o.sites), rounds: Number(o.rounds), keep: o.keep === true });
    }),
  );

registerStudyCommands(program, action);
registerPrivacyCommands(program, action, TLS_CA_HELP, TOKEN_HELP);
registerSimulateCommand(program, action);
registerRegionCommand(program, action);

await program.parseAsync(process.argv);
