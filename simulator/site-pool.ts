// The simulator's virtual sites, spread over a few worker threads (pool-thread.ts): started,
// watched and stopped from the main thread. Hostile sites share one thread, so colluding attacks
// can see each other's updates as colluders would.

import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { FedrxError } from '../shared/errors.js';
import type { CoordinatorAddress, FromPool, PoolThreadData, ToPool, VirtualSiteSpec } from './pool-messages.js';

const ENTRY = new URL('./pool-thread-entry.mjs', import.meta.url);

export interface PoolOptions {
  threads: number;
  sites: readonly VirtualSiteSpec[];
  /** Indexed by each site's `coordinator`. */
  coordinators: CoordinatorAddress[];
  logDir: string;
}

/** Which thread each site goes to: hostile sites together in the first, the others dealt round-robin. */
export function assignThreads(sites: readonly VirtualSiteSpec[], threads: number): VirtualSiteSpec[][] {
  const out: VirtualSiteSpec[][] = Array.from({ length: threads }, () => []);
  const hostile = sites.filter((s) => s.behaviour.attack !== null);
  out[0]!.push(...hostile);
  let next = hostile.length > 0 ? 1 % threads : 0;
  for (const s of sites) {
    if (s.behaviour.attack !== null) continue;
    out[next]!.push(s);
    next = (next + 1) % threads;
  }
  return out.filter((t) => t.length > 0);
}

export class SitePool {
  private constructor(
    private readonly workers: Worker[],
    readonly backend: string,
  ) {}

  /** Starts every thread and every site in it; resolves once all agents are started (they then dial). */
  static async start(o: PoolOptions): Promise<SitePool> {
    const groups = assignThreads(o.sites, Math.max(1, o.threads));
    const workers: Worker[] = [];
    const backends = await Promise.all(
      groups.map((sites, poolIndex) => {
        const data: PoolThreadData = { poolIndex, coordinators: o.coordinators, sites, totalSites: o.sites.length, logFile: join(o.logDir, `pool-${poolIndex}.log`) };
        const worker = new Worker(ENTRY, { workerData: data });
        workers.push(worker);
        return untilStarted(worker, poolIndex);
      }),
    ).catch(async (e: unknown) => {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    });
    return new SitePool(workers, backends[0] ?? 'none');
  }

  /** Closes every agent cleanly (their replicas and endorsements flushed), then the threads. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const done = (): void => void w.terminate().then(() => resolve());
            w.on('message', (m: FromPool) => m.type === 'stopped' && done());
            w.once('exit', () => resolve());
            w.postMessage({ type: 'stop' } satisfies ToPool);
            setTimeout(done, 30_000).unref();
          }),
      ),
    );
  }
}

function untilStarted(worker: Worker, index: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let backend = 'none';
    worker.on('message', (m: FromPool) => {
      if (m.type === 'ready') backend = m.backend;
      else if (m.type === 'started') resolve(backend);
      else if (m.type === 'failed') reject(new FedrxError('E_INTERNAL', `site pool ${index}: ${m.message}`));
    });
    worker.once('error', (e) => reject(new FedrxError('E_INTERNAL', `site pool ${index} failed: ${e.message}`)));
    worker.once('exit', (code) => reject(new FedrxError('E_INTERNAL', `site pool ${index} stopped (exit code ${code})`)));
  });
}
