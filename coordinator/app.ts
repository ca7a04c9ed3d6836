// Builds the coordinator: Fastify (HTTP API) and the agents' WebSocket endpoint on one port,
// over one SQLite store. Plugins → routes → error handler, in that order.

import Fastify, { type FastifyInstance } from 'fastify';
import { FedrxError } from '../shared/errors.js';
import { openDb } from './db.js';
import { Gateway } from './gateway.js';
import { installErrorHandler } from './http-errors.js';
import { Predictor } from './predictor.js';
import { RoundRunner, type RoundSummary } from './round-runner.js';
import { ledgerRoutes } from './routes/ledger.js';
import { predictRoutes } from './routes/predict.js';
import { runRoutes } from './routes/runs.js';
import { siteRoutes } from './routes/sites.js';
import { Store } from './store.js';
import { checkServerTls, describeServerCert, type ServerTls } from './tls.js';

export interface CoordinatorOptions {
  db: string;
  log?: (line: string) => void;
  /** Serve read-only routes on a ledger that fails verification, for investigation. */
  readOnly?: boolean;
  maxFrameBytes?: number;
  onRound?: (s: RoundSummary) => void;
  httpLogger?: boolean;
  /** Serve HTTPS (and so WSS for the agents) with this certificate (PEM, leaf first) and key. */
  tls?: ServerTls;
}

export interface Coordinator {
  app: FastifyInstance;
  store: Store;
  gateway: Gateway | null;
  runner: RoundRunner | null;
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export async function buildCoordinator(opts: CoordinatorOptions): Promise<Coordinator> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const readOnly = opts.readOnly ?? false;
  // Checked before the store is opened, so a bad certificate costs nothing to report.
  const certInfo = opts.tls === undefined ? undefined : checkServerTls(opts.tls);
  const db = openDb(opts.db, { readonly: readOnly });
  const store = new Store(db);

  // The chain is checked before anything else may touch it.
  const check = store.ledger.verify();
  if (!check.ok && !readOnly) {
    db.close();
    throw new FedrxError('E_LEDGER_BROKEN', `ledger entry ${check.badIndex} does not verify: ${check.reason}`, { badIndex: check.badIndex });
  }
  if (certInfo !== undefined) log(describeServerCert(certInfo));
  log(check.ok ? `ledger verified: ${check.length} entries, head ${check.headHash}` : `READ-ONLY: ledger entry ${check.badIndex} does not verify (${check.reason})`);
  if (!readOnly) {
    const interrupted = store.failInterruptedRuns();
    if (interrupted > 0) log(`${interrupted} run(s) interrupted by the last shutdown were marked failed`);
  }

  const fastifyOptions = {
    logger: opts.httpLogger ?? false,
    bodyLimit: 16 * 1024 * 1024, // a clinic's batch of up to 10,000 rows
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' as const, allErrors: false } },
  };
  // Fastify's types key the instance on the raw server class; the routes only use requests and
  // replies, which are the same over HTTPS, so both are handled as the plain-HTTP instance type.
  const app: FastifyInstance =
    opts.tls === undefined ? Fastify(fastifyOptions) : (Fastify({ ...fastifyOptions, https: { cert: opts.tls.cert, key: opts.tls.key } }) as unknown as FastifyInstance);
  installErrorHandler(app);

  let gateway: Gateway | null = null;
  let runner: RoundRunner | null = null;
  if (!readOnly) {
    gateway = new Gateway(app.server, { store, log, maxFrameBytes: opts.maxFrameBytes ?? 256 * 1024 * 1024 });
    runner = new RoundRunner(store, gateway, log, opts.onRound);
  }

  app.get('/healthz', async () => {
    const head = store.ledger.head();
    return { ok: true, version: VERSION, readOnly, ledger: { length: head.length, headHash: head.headHash }, sitesConnected: gateway?.connectedSites().length ?? 0 };
  });
  ledgerRoutes(app, store);
  if (gateway !== null && runner !== null) {
    runRoutes(app, store, runner);
    siteRoutes(app, store, gateway);
    predictRoutes(app, new Predictor(store));
  } else {
    const refuse = async (): Promise<never> => {
      throw new FedrxError('E_READ_ONLY', 'coordinator is read-only: the ledger failed verification');
    };
    app.get('/v1/runs/:id', refuse);
    app.post('/v1/runs', refuse);
    app.post('/v1/predict', refuse);
  }

  return {
    app,
    store,
    gateway,
    runner,
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
