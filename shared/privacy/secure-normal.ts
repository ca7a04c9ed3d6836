// Standard normal draws from the operating system's CSPRNG (node:crypto), by Box–Muller: noise that
// protects patients must not come from a seeded generator whose state an observer could recover.

import { randomBytes } from 'node:crypto';

const CHUNK = 65536;

/** A source of independent N(0, 1) draws. */
export function secureNormal(): () => number {
  let buf = randomBytes(CHUNK);
  let at = 0;
  let spare: number | null = null;
  const uniform = (): number => {
    if (at + 8 > buf.length) {
      buf = randomBytes(CHUNK);
      at = 0;
    }
    // 53 random bits → [0, 1)
    const hi = buf.readUInt32LE(at) >>> 5;
    const lo = buf.readUInt32LE(at + 4) >>> 6;
    at += 8;
    return (hi * 67108864 + lo) / 9007199254740992;
  };
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u1 = 1 - uniform(); // (0, 1]: log(u1) is finite
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}
