// The agent process: start, run until a signal, close cleanly.

import { startAgent, type RunningAgent } from './agent.js';
import { parseSiteCrashPoint } from './crash-drill.js';
import { agentTls } from './tls-options.js';

export async function runAgent(o: {
  coordinatorUrl: string;
  siteId: string;
  dataFile: string;
  keyDir: string;
  coordinatorKey: string | undefined;
  replicaDir: string;
  columnMap: Record<string, string> | undefined;
  dropBadRows?: boolean | undefined;
  tlsCa?: string | undefined;
  tlsPin?: string | undefined;
  maxEpsilon?: number | undefined;
  chunkBytes?: number | undefined;
}): Promise<void> {
  const log = (line: string): void => console.log(`[${o.siteId}] ${line}`);
  const tls = agentTls(o.coordinatorUrl, { caFile: o.tlsCa, pin: o.tlsPin });
  const drill = process.env.FEDRX_SITE_CRASH_AT;
  const crashAt = drill === undefined || drill === '' ? undefined : parseSiteCrashPoint(drill);
  if (crashAt !== undefined) log(`crash drill armed: FEDRX_SITE_CRASH_AT=${drill}`);
  const agent = await startAgent({
    coordinatorUrl: o.coordinatorUrl,
    siteId: o.siteId,
    dataFile: o.dataFile,
    replicaDir: o.replicaDir,
    keyDir: o.keyDir,
    log,
    ...(o.coordinatorKey === undefined ? {} : { coordinatorKey: o.coordinatorKey }),
    ...(o.columnMap === undefined ? {} : { columnMap: o.columnMap }),
    dropBadRows: o.dropBadRows === true,
    ...(o.maxEpsilon === undefined ? {} : { maxEpsilon: o.maxEpsilon }),
    ...(o.chunkBytes === undefined ? {} : { chunkBytes: o.chunkBytes }),
    ...(tls === undefined ? {} : { tls }),
    ...(crashAt === undefined ? {} : { crashAt }),
  });
  closeOnSignals(agent, log);
}

/** SIGINT or SIGTERM closes the agent cleanly (replica and endorsements flushed), then the process. */
export function closeOnSignals(agent: RunningAgent, log: (line: string) => void): void {
  const shutdown = (signal: string): void => {
    log(`${signal}: closing`);
    agent.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
