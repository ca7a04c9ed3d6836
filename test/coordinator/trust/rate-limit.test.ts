import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../coordinator/trust/rate-limit.js';

describe('RateLimiter', () => {
  it('allows `limit` events per key per window, then refuses until the window ends', () => {
    let t = 1000;
    const r = new RateLimiter({ limit: 3, windowMs: 100, now: () => t });
    expect([r.take('a'), r.take('a'), r.take('a'), r.take('a')]).toEqual([true, true, true, false]);
    expect(r.take('b')).toBe(true); // keys are counted apart
    expect(r.retryAfterMs('a')).toBe(100);
    expect(r.retryAfterMs('b')).toBe(0);
    t += 60;
    expect(r.take('a')).toBe(false);
    expect(r.retryAfterMs('a')).toBe(40);
    t += 40;
    expect(r.retryAfterMs('a')).toBe(0);
    expect(r.take('a')).toBe(true);
  });

  it('remembers at most maxKeys keys, forgetting the oldest window first', () => {
    const t = 0;
    const r = new RateLimiter({ limit: 1, windowMs: 1000, maxKeys: 3, now: () => t });
    for (const k of ['a', 'b', 'c', 'd']) expect(r.take(k)).toBe(true);
    expect(r.take('a')).toBe(true); // 'a' was forgotten to make room for 'd'
    expect(r.take('d')).toBe(false);
  });
});
