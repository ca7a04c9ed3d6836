// Counts events per key (an address, a site) in fixed windows, with a bounded number of keys, so
// that attacker-chosen keys cannot grow it without limit. Pure apart from the clock it is given.

export interface RateLimitOptions {
  /** Events allowed per key in one window. */
  limit: number;
  windowMs: number;
  /** Keys remembered at most; the oldest window is forgotten first. */
  maxKeys?: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly o: RateLimitOptions) {
    this.now = o.now ?? Date.now;
    this.maxKeys = o.maxKeys ?? 10_000;
  }

  /** Records one event for `key`; false when `key` had already used its window's allowance. */
  take(key: string): boolean {
    const w = this.current(key);
    if (w !== undefined) {
      if (w.count >= this.o.limit) return false;
      w.count++;
      return true;
    }
    if (this.windows.size >= this.maxKeys) this.forgetOldest();
    this.windows.set(key, { count: 1, resetAt: this.now() + this.o.windowMs });
    return this.o.limit >= 1;
  }

  /** Milliseconds until `key` may act again; 0 when it may now. Records nothing. */
  retryAfterMs(key: string): number {
    const w = this.current(key);
    return w === undefined || w.count < this.o.limit ? 0 : w.resetAt - this.now();
  }

  private current(key: string): { count: number; resetAt: number } | undefined {
    const w = this.windows.get(key);
    if (w === undefined) return undefined;
    if (this.now() < w.resetAt) return w;
    this.windows.delete(key);
    return undefined;
  }

  private forgetOldest(): void {
    const now = this.now();
    for (const [k, w] of this.windows) if (now >= w.resetAt) this.windows.delete(k);
    // Map order is insertion order: the first key has the oldest window.
    while (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
  }
}
