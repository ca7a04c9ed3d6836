// What the simulator's main thread and its site-pool threads say to each other. Plain data: it
// crosses a thread boundary by structured clone.

/** How a virtual site misbehaves, if it does; decided once by the simulator from its seed. */
export interface SiteBehaviour {
  /** Chance that the site's link drops when it is asked to train (it redials with backoff). */
  dropout: number;
  /** Extra delay before each answer to a training task; 0 for a site on time. */
  straggleMs: number;
  /** A hostile site's attack on its own updates (shared/byzantine), or null for an honest site. */
  attack: string | null;
  /** Seeds the site's own dropout draws and noise. */
  seed: string;
}

export interface VirtualSiteSpec {
  siteId: string;
  /** The site's own rows (a CSV written by the simulator from its partition). */
  dataFile: string;
  /** Its replica, endorsements and kept answers. */
  stateDir: string;
  publicKey: string;
  secretKey: Uint8Array;
  behaviour: SiteBehaviour;
  /** Which of the simulation's coordinators it belongs to (its region's; 0 when there is one). */
  coordinator: number;
}

/** A coordinator virtual sites dial, and its ledger key, which they pin. */
export interface CoordinatorAddress {
  url: string;
  key: string;
}

export interface PoolThreadData {
  poolIndex: number;
  /** Indexed by each site's `coordinator`. */
  coordinators: CoordinatorAddress[];
  sites: VirtualSiteSpec[];
  /** Every virtual site of the simulation, in all pools. */
  totalSites: number;
  /** Where the pool writes its sites' log lines. */
  logFile: string;
}

export type FromPool =
  | { type: 'ready'; backend: string }
  | { type: 'started'; sites: number }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

export type ToPool = { type: 'stop' };
