// The coordinator process: build, listen, say where, and shut down cleanly on a signal.

import { buildCoordinator } from './app.js';
import { crashAt, parseCrashPoint } from './crash-drill.js';
import type { NetLimits } from './gateway/connection-limits.js';
import { loadServerTls } from './http/tls.js';

export async function runCoordinator(o: {
  db: string;
  port: number;
  host: string;
  readOnly: boolean;
  maxFrameBytes: number;
  keyDir?: string | undefined;
  heartbeatMs?: number | undefined;
  streamIdleMs?: number | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  limits?: Partial<NetLimits>;
}): Promise<void> {
  const log = (line: string): void => console.log(`[coordinator] ${line}`);
  const tls = loadServerTls(o.tlsCert, o.tlsKey);
  const drill = process.env.FEDRX_CRASH_AT;
  const onStep = drill === undefined || drill === '' ? undefined : crashAt(parseCrashPoint(drill), log);
  if (onStep !== undefined) log(`crash drill armed: FEDRX_CRASH_AT=${drill}`);
  const c = await buildCoordinator({
    db: o.db,
    readOnly: o.readOnly,
    maxFrameBytes: o.maxFrameBytes,
    log,
    ...(o.limits === undefined ? {} : { limits: o.limits }),
    ...(o.keyDir === undefined ? {} : { keyDir: o.keyDir }),
    ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
    ...(o.streamIdleMs === undefined ? {} : { streamIdleMs: o.streamIdleMs }),
    ...(tls === undefined ? {} : { tls }),
    ...(onStep === undefined ? {} : { onStep }),
  });
  const url = await c.listen(o.port, o.host);
  // Parsed by the demo and the e2e tests to find a port chosen with --port 0.
  console.log(`fedrx coordinator listening on ${url}`);
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log(`${signal}: shutting down`);
    c.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
