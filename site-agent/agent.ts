// A hospital's site agent: holds the connection, runs the coordinator's tasks one at a time on
// the local CSV, and keeps the ledger replica. Only weights, counts and losses ever leave the
// site; log lines carry rounds and numbers, never a patient value. The CSV, statistics, training
// and evaluation live in a compute thread (compute-worker.ts), so this event loop stays free to
// answer the coordinator's heartbeats however long a round trains.
//
// startAgent only puts the parts together, each made before the next one needs it:
// connection.ts (dials, redials with backoff), refusal.ts (leaves a coordinator it cannot trust),
// endorser.ts, answer-store.ts (answers kept for redone rounds), task-handler.ts (the tasks),
// ledger-sync.ts (the replica and endorsements) and handshake.ts (the signed hello).

import { FedrxError } from '../shared/errors.js';
import { readKeyPair } from '../shared/key-files.js';
import type { KeyPair } from '../shared/signing.js';
import { frameKind } from '../shared/tensor-codec.js';
import { messageText, type CoordinatorMessage } from '../shared/wire.js';
import { AnswerStore } from './answer-store.js';
import { Residuals } from './residuals.js';
import type { SiteCompute } from './compute-tasks.js';
import { ComputeWorker } from './compute-worker.js';
import { crashIfArmed, type SiteCrashPoint } from './crash-drill.js';
import { Connection, type ConnectionOptions, type ConnectionTls } from './connection.js';
import { Endorser, type EndorserOptions } from './endorser.js';
import { answerChallenge } from './handshake.js';
import { LedgerSync } from './ledger-sync.js';
import { Refusal } from './refusal.js';
import { Replica, type EntryPool } from './replica.js';
import { privacyRefusal, type TrainingRequest } from './privacy-guard.js';
import { TaskHandler } from './task-handler.js';
import { ID, taskRef } from './task-reply.js';

export interface AgentOptions {
  coordinatorUrl: string;
  siteId: string;
  dataFile: string;
  /** Folder holding the site's Ed25519 key pair (`fedrx site init`): site.key and site.pub; or the pair itself (a simulator's virtual site). */
  keyDir: string | KeyPair;
  /** The coordinator's ledger key as given by the site's admin; otherwise pinned on first contact. */
  coordinatorKey?: string;
  /** The agent's state folder: the replica, its endorsements and the answers kept for redone rounds. */
  replicaDir: string;
  /** study column → CSV column. */
  columnMap?: Record<string, string>;
  /** Leave rows with misfit values out instead of refusing the file (see loadSiteRows). */
  dropBadRows?: boolean;
  /** Updates whose frame is larger than this go as a stream of chunks this size (default 4 MiB). */
  chunkBytes?: number;
  /** The site's own privacy budget: training that would take it past this ε is refused (privacy-guard.ts). */
  maxEpsilon?: number;
  log?: (line: string) => void;
  /** Trust anchors and certificate pin for an https coordinator. */
  tls?: ConnectionTls;
  /** Reconnection timing (first delay, cap, jitter source); the defaults suit production. */
  backoff?: Pick<ConnectionOptions, 'minDelayMs' | 'maxDelayMs' | 'random' | 'schedule'>;
  /** The compute thread's script (compute-worker.ts); a stand-in replaces it in tests. */
  computeEntry?: URL;
  /** Where the computations run instead of a compute thread of the agent's own (a simulator's shared thread). */
  compute?: SiteCompute;
  /** Shares the replica's entries with other agents of this process (the simulator's virtual sites). */
  entryPool?: EntryPool;
  /** Reads the coordinator's text frames (the simulator's virtual sites share one parse of a message they all receive). */
  parseMessage?: ConnectionOptions['parse'];
  /** A region's condition on endorsing (endorser.ts): its own sites endorsed the regional round first. */
  vouch?: EndorserOptions['vouch'];
  /** A crash drill (crash-drill.ts): die on receiving this message of this round. */
  crashAt?: SiteCrashPoint;
}

export interface RunningAgent {
  close(): Promise<void>;
  replica: Replica;
  /** tfjs backend in use ('tensorflow', 'wasm' or 'cpu'). */
  backend: string;
  /** Cuts the connection as a lost link would; it redials with backoff (the simulator's dropouts). */
  dropConnection(): void;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { siteId } = opts;
  const log = opts.log ?? ((line: string) => console.log(`${new Date().toISOString()} [site ${siteId}] ${line}`));
  if (!ID.test(siteId)) throw new FedrxError('E_BAD_REQUEST', 'siteId must be 1-128 characters of A-Z a-z 0-9 . _ : -'); // fail at start, not at hello

  const keys = typeof opts.keyDir === 'string' ? readKeyPair(opts.keyDir, 'site') : opts.keyDir;
  log(`site key ${keys.publicKey}`);
  const replica = await Replica.open(opts.replicaDir, {
    site: { siteId, publicKey: keys.publicKey },
    ...(opts.coordinatorKey === undefined ? {} : { coordinatorKey: opts.coordinatorKey }),
    ...(opts.entryPool === undefined ? {} : { pool: opts.entryPool }),
  });
  log(`replica: ${replica.head().length} ledger entries, head ${replica.head().headHash.slice(0, 12)}, coordinator key ${replica.coordinatorKey() ?? 'not pinned yet'}`);

  // tfjs starts inside the compute thread, once; its backend is logged from there.
  const compute =
    opts.compute ??
    (await ComputeWorker.start(
      { siteId, dataFile: opts.dataFile, dropBadRows: opts.dropBadRows === true, ...(opts.columnMap ? { columnMap: opts.columnMap } : {}) },
      log,
      opts.computeEntry,
    ));
  try {
    const backend = await compute.backend();
    const conn = new Connection({
      coordinatorUrl: opts.coordinatorUrl,
      log,
      ...opts.backoff,
      ...(opts.tls === undefined ? {} : { tls: opts.tls }),
      ...(opts.parseMessage === undefined ? {} : { parse: opts.parseMessage }),
    });
    const send = (data: string | Buffer): void => void conn.send(data);
    const refusal = new Refusal(conn, replica.dir, log);
    const endorser = await Endorser.open({ siteId, keys, replica, send: (msg) => send(messageText(msg)), onDispute: (index, why) => refusal.dispute(index, 'E_ENTRY_DISPUTED', why), log, ...(opts.vouch === undefined ? {} : { vouch: opts.vouch }) });
    const answers = await AnswerStore.open(replica.dir, log);
    const residuals = await Residuals.open(replica.dir, log);
    const { maxEpsilon } = opts;
    const guard = maxEpsilon === undefined ? undefined : (req: TrainingRequest) => privacyRefusal(siteId, maxEpsilon, replica.entries(), req);
    const sendPaced = (frame: Buffer): Promise<boolean> => conn.sendPaced(frame);
    const tasks = new TaskHandler({ siteId, keys, compute, endorser, answers, residuals, send, sendPaced, log, ...(guard === undefined ? {} : { guard }), ...(opts.chunkBytes === undefined ? {} : { chunkBytes: opts.chunkBytes }) });
    const ledger = new LedgerSync({ replica, endorser, refusal, log });

    const drill = opts.crashAt ?? null;
    const onMessage = async (msg: CoordinatorMessage): Promise<void> => {
      if ('round' in msg) crashIfArmed(drill, msg.type, msg.round, log);
      switch (msg.type) {
        case 'welcome':
          return ledger.onWelcome(msg);
        case 'ledger-entries':
          return ledger.onEntries(msg);
        case 'endorsement-request':
          return ledger.onEndorsementRequest(msg);
        case 'error':
          return ledger.onCoordinatorError(msg);
        case 'stats-request':
          return tasks.onStatsRequest(msg);
        case 'exact-request':
          return tasks.onExactRequest(msg);
        case 'secagg-setup':
        case 'secagg-roster':
        case 'secagg-inbox':
        case 'secagg-unmask':
          return tasks.secure.onMessage(msg);
      }
    };
    conn.start({ hello: answerChallenge({ siteId, keys, replica, backend, refusal, log }), onMessage, onBinary: (buf) => {
        if (drill !== null) crashIfArmed(drill, String(frameKind(buf)), taskRef(buf)?.round, log);
        tasks.onFrame(buf);
      },
    });

    return {
      replica,
      backend,
      dropConnection: () => conn.drop(),
      async close() {
        const stopped = tasks.stop();
        await conn.close();
        await compute.close(); // fails the task under way, if any
        await stopped;
        await endorser.flushed();
      },
    };
  } catch (e) {
    await compute.close(); // a thread left running would keep the process alive
    throw e;
  }
}
