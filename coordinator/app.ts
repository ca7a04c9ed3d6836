// Builds the coordinator: Fastify (HTTP API) and the agents' WebSocket endpoint on one port,
// over one SQLite store. Error handler and access control first (auth.ts must see every route),
// then the routes.

import { modelRoutes } from './http/routes/models.js';
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { dirname, join } from 'node:path';
import { FedrxError } from '../shared/errors.js';
import type { ChainCheck } from '../shared/ledger.js';
import { headProblem } from '../shared/ledger-head.js';
import { loadOrCreateKeyPair } from '../shared/key-files.js';
import { generateKeyPair, type KeyPair } from '../shared/signing.js';
import { AuditLog } from './trust/audit-log.js';
import { AUDIT_KEY_BYTES, loadAuditKey } from './trust/audit-key.js';
import { installAuth } from './trust/auth.js';
import { ConnectionLimiter, netLimits, serverTimeoutOptions, type NetLimits } from './gateway/connection-limits.js';
import { openDb } from './store/db.js';
import { Endorsements } from './trust/endorsements.js';
import { Gateway } from './gateway/gateway.js';
import { headFileOf, readHeadFile } from './store/head-file.js';
import { installErrorHandler, readOnlyError } from './http/http-errors.js';
import { Predictor } from './predictor.js';
import type { RoundSummary } from './rounds/engine.js';
import { PhaseDesk } from './phases/phase-desk.js';
import { RunQueue } from './rounds/run-queue.js';
import type { StepObserver } from './rounds/run-steps.js';
import { EndorsementDesk } from './trust/endorsement-desk.js';
import { auditRoutes } from './http/routes/audit.js';
import { privacyRoutes } from './http/routes/privacy.js';
import { ledgerRoutes } from './http/routes/ledger.js';
import { predictRoutes } from './http/routes/predict.js';
import { runRoutes } from './http/routes/runs.js';
import { relayRoutes } from './http/routes/relay.js';
import { siteRoutes } from './http/routes/sites.js';
import { tokenRoutes } from './http/routes/tokens.js';
import { sessionRoutes } from './http/routes/session.js';
import { modelFormRoutes } from './http/routes/model-form.js';
import { runEventRoutes } from './http/routes/run-events.js';
import { RunEvents } from './http/run-events.js';
import { dashboardRoutes } from './http/dashboard.js';
import { installOpenApi, openApiRoute } from './http/openapi.js';
import { HealthReply } from './http/schemas/responses.js';
import { SessionStore } from './trust/sessions.js';
import { Store } from './store/store.js';
import { TokenStore } from './trust/token-store.js';
import { checkServerTls, describeServerCert, type ServerTls } from './http/tls.js';

export interface CoordinatorOptions {
  db: string;
  log?: (line: string) => void;
  /** Serve read-only routes on a ledger that fails verification, for investigation. */
  readOnly?: boolean;
  /** Folder of the coordinator's ledger-signing key (created on first start); default: beside the db. */
  keyDir?: string;
  /** Test hook: the ledger-signing key itself, instead of a key folder. */
  signer?: KeyPair;
  maxFrameBytes?: number;
  /** How long a handshake nonce may be answered (default 30 s). */
  nonceTtlMs?: number;
  /** Heartbeat interval to the agents (default 15 s): a site silent for two is disconnected. */
  heartbeatMs?: number;
  /** A chunked update with no chunk for this long is refused (default 60 s). */
  streamIdleMs?: number;
  onRound?: (s: RoundSummary) => void;
  /** Told of each moment of a run: phases opened, answers accepted, models aggregated, rounds committed. */
  onStep?: StepObserver;
  httpLogger?: boolean;
  /** 32-byte key of the prediction audit log's input HMACs; default: `audit.key` beside the db file. */
  auditKey?: Uint8Array;
  /** Serve HTTPS (and so WSS for the agents) with this certificate (PEM, leaf first) and key. */
  tls?: ServerTls;
  /** Timeouts and connection limits; each one unset keeps its default (DEFAULT_NET_LIMITS). */
  limits?: Partial<NetLimits>;
  /** How long a dashboard session lasts (default 8 h). */
  sessionTtlMs?: number;
}

export interface Coordinator {
  app: FastifyInstance;
  store: Store;
  tokens: TokenStore;
  audit: AuditLog;
  gateway: Gateway | null;
  runner: RunQueue | null;
  /** Live progress of runs, as the dashboard's event streams receive it. */
  events: RunEvents;
  connections: ConnectionLimiter;
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export async function buildCoordinator(opts: CoordinatorOptions): Promise<Coordinator> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const readOnly = opts.readOnly ?? false;
  // Checked before the store is opened, so a bad certificate costs nothing to report.
  const certInfo = opts.tls === undefined ? undefined : checkServerTls(opts.tls);
  const limits = netLimits(opts.limits);
  if (opts.auditKey !== undefined && opts.auditKey.length !== AUDIT_KEY_BYTES) {
    throw new FedrxError('E_BAD_REQUEST', `auditKey must be ${AUDIT_KEY_BYTES} bytes, not ${opts.auditKey.length}`);
  }
  const maxFrameBytes = opts.maxFrameBytes ?? 256 * 1024 * 1024;
  const signer = readOnly ? null : (opts.signer ?? coordinatorKey(opts, log));
  const db = openDb(opts.db, { readonly: readOnly });
  const headFile = headFileOf(opts.db);
  const store = new Store(db, signer, headFile);
  const endorsements = new Endorsements(store);
  const tokens = new TokenStore(db);
  const sessions = new SessionStore(opts.sessionTtlMs);
  const events = new RunEvents();

  // The chain, and its length against the head recorded beside it, are checked before anything else may touch it.
  let check: ChainCheck;
  try {
    check = checkLedgerAtStart(store, headFile);
  } catch (e) {
    db.close();
    throw e;
  }
  if (!check.ok && !readOnly) {
    db.close();
    throw new FedrxError('E_LEDGER_BROKEN', `ledger entry ${check.badIndex} does not verify: ${check.reason}`, { badIndex: check.badIndex });
  }
  if (certInfo !== undefined) log(describeServerCert(certInfo));
  log(check.ok ? `ledger verified: ${check.length} entries, head ${check.headHash}` : `READ-ONLY: ledger entry ${check.badIndex} does not verify (${check.reason})`);
  if (!readOnly && headFile !== null) {
    if (check.ok && check.length > 0 && readHeadFile(headFile) === null) log(`no head file at ${headFile} yet: recording the current head there`);
    store.recordHead();
  }
  if (!readOnly) {
    for (const run of store.interruptedRuns()) log(`run ${run.id} was interrupted by the last shutdown: it resumes from its last committed round`);
  }
  let audit: AuditLog;
  try {
    audit = new AuditLog(db, opts.auditKey ?? loadAuditKey(opts.db, { create: !readOnly, log }));
  } catch (e) {
    db.close();
    throw e;
  }

  const timeouts = serverTimeoutOptions(limits);
  const fastifyOptions = {
    logger: opts.httpLogger ?? false,
    // Fastify sets these two on the server itself (its defaults: no request timeout, 72 s keep-alive).
    requestTimeout: timeouts.requestTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    http: timeouts,
    bodyLimit: 16 * 1024 * 1024, // a clinic's batch of up to 10,000 rows
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' as const, allErrors: false, allowUnionTypes: true } },
  };
  // Fastify's types key the instance on the raw server class; the routes only use requests and
  // replies, which are the same over HTTPS, so both are handled as the plain-HTTP instance type.
  const app: FastifyInstance =
    opts.tls === undefined ? Fastify(fastifyOptions) : (Fastify({ ...fastifyOptions, https: { cert: opts.tls.cert, key: opts.tls.key, ...timeouts } }) as unknown as FastifyInstance);
  const connections = new ConnectionLimiter(app.server, limits, log);
  installErrorHandler(app);
  // Answers go out as built: the response schemas describe them (/docs) without filtering them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Cookies are parsed before auth.ts reads the session; the OpenAPI collector sees every route.
  await app.register(fastifyCookie);
  await installOpenApi(app, VERSION);
  installAuth(app, tokens, sessions);

  let gateway: Gateway | null = null;
  let runner: RunQueue | null = null;
  if (!readOnly) {
    // The caller's observer (a crash drill, a progress display) and the dashboard's live events.
    const onStep: StepObserver = (s) => {
      opts.onStep?.(s);
      events.step(s);
    };
    const desk = new PhaseDesk((phase) => onStep({ step: 'answer', phase: phase.name, runId: phase.collector.runId, round: phase.collector.round }));
    gateway = new Gateway(app.server, {
      sites: store.sites,
      ledger: store.ledger,
      signer: signer!,
      answers: desk,
      trust: new EndorsementDesk(store, endorsements, log, limits.disputesPerHour),
      log,
      maxFrameBytes,
      limits,
      connections,
      ...(opts.nonceTtlMs === undefined ? {} : { nonceTtlMs: opts.nonceTtlMs }),
      ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
      ...(opts.streamIdleMs === undefined ? {} : { streamIdleMs: opts.streamIdleMs }),
    });
    runner = new RunQueue(store, gateway, desk, log, {
      onRound: (s) => {
        opts.onRound?.(s);
        events.round(s);
      },
      onStep,
      onRunEnd: (runId) => events.ended(runId),
    });
  }

  app.get('/healthz', { schema: { response: { 200: HealthReply } }, config: { roles: 'public' } }, async () => {
    const head = store.ledger.head();
    return { ok: true, version: VERSION, readOnly, ledger: { length: head.length, headHash: head.headHash }, sitesConnected: gateway?.connectedSites().length ?? 0 };
  });
  ledgerRoutes(app, store, endorsements, headFile);
  auditRoutes(app, audit);
  tokenRoutes(app, tokens, { readOnly });
  runRoutes(app, store, runner);
  relayRoutes(app, store, runner, maxFrameBytes);
  runEventRoutes(app, store, events);
  sessionRoutes(app, tokens, sessions, { secure: opts.tls !== undefined });
  await dashboardRoutes(app);
  openApiRoute(app);
  siteRoutes(app, store, gateway);
  modelRoutes(app, store);
  privacyRoutes(app, store, { readOnly });
  if (gateway !== null) {
    const predictor = new Predictor(store, endorsements);
    predictRoutes(app, predictor, audit);
    modelFormRoutes(app, store, predictor);
  } else {
    // Same roles as the live route, so a refusal tells nothing to a caller who may not ask.
    app.post('/v1/predict', { config: { roles: ['clinician'] } }, async () => {
      throw readOnlyError('no predictions are served while the ledger is under investigation');
    });
  }

  return {
    app,
    store,
    tokens,
    audit,
    gateway,
    runner,
    events,
    connections,
    async listen(port, host = '127.0.0.1') {
      const url = await app.listen({ port, host });
      runner?.kick();
      return url;
    },
    async close() {
      await runner?.stop();
      await gateway?.close();
      await app.close();
      db.close();
    },
  };
}

/** The chain check, failed also when the ledger is shorter than, or differs from, its recorded head. */
function checkLedgerAtStart(store: Store, headFile: string | null): ChainCheck {
  const check = store.ledger.verify();
  if (!check.ok || headFile === null) return check;
  let recorded;
  try {
    recorded = readHeadFile(headFile);
  } catch (e) {
    return { ok: false, length: check.length, badIndex: check.length, reason: (e as Error).message };
  }
  if (recorded === null) return check;
  const problem = headProblem(recorded, { length: check.length, hashAt: (i) => store.ledger.get(i)?.entryHash ?? null }, `head file ${headFile}`);
  return problem === null ? check : { ok: false, length: check.length, badIndex: problem.index, reason: problem.reason };
}

/** The ledger-signing key: read from its folder, or made there on first start. */
function coordinatorKey(opts: CoordinatorOptions, log: (line: string) => void): KeyPair {
  if (opts.db === ':memory:' && opts.keyDir === undefined) return generateKeyPair();
  const dir = opts.keyDir ?? join(dirname(opts.db), 'coordinator-key');
  const key = loadOrCreateKeyPair(dir, 'coordinator');
  log(`${key.created ? 'created' : 'loaded'} coordinator ledger key ${join(dir, 'coordinator.key')}: public key ${key.publicKey}`);
  return key;
}
