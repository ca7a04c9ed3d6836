/**
 * Seeded pseudo-random number generator for reproducible synthetic data.
 *
 * sfc32 (Small Fast Counting, from PractRand) keeps 128 bits of state, passes
 * PractRand/BigCrush and needs only 32-bit integer ops, so results are
 * identical on every JS engine. The seed (string or number) is hashed with
 * cyrb128 into the four state words so that similar seeds ("site-1",
 * "site-2") give unrelated streams. Not cryptographic — never use for keys.
 */

export type Seed = string | number;

/** cyrb128: cheap 128-bit string hash, used only to spread the seed over the state. */
function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** Join seed parts into one seed string, e.g. deriveSeed(seed, 'site-3', 'cohort'). */
export function deriveSeed(...parts: Seed[]): string {
  return parts.map(String).join('\u001f');
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Second Box–Muller variate, kept so each pair of uniforms yields two normals. */
  private spareNormal: number | null = null;

  constructor(seed: Seed) {
    [this.a, this.b, this.c, this.d] = cyrb128(String(seed));
    // Discard the first outputs: sfc32 mixes poorly for a few rounds.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Normal(mean, sd) by Box–Muller. */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    const u1 = 1 - this.next(); // (0, 1]: keeps log() finite
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return mean + sd * r * Math.cos(2 * Math.PI * u2);
  }

  /** Gamma(shape, scale 1) by Marsaglia–Tsang (2000); shape < 1 via the boost Gamma(k+1)·U^(1/k). */
  gamma(shape: number): number {
    if (!(shape > 0) || !Number.isFinite(shape)) {
      throw new RangeError(`gamma shape must be a positive finite number, got ${shape}`);
    }
    if (shape < 1) {
      const u = 1 - this.next();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Dirichlet(alpha) draw as normalised gammas; sums to 1. */
  dirichlet(alpha: readonly number[]): number[] {
    if (alpha.length === 0) throw new RangeError('dirichlet needs at least one concentration');
    const g = alpha.map((a) => this.gamma(a));
    const sum = g.reduce((s, x) => s + x, 0);
    // Tiny concentrations can underflow every gamma to 0; fall back to the mean.
    if (sum === 0) {
      const total = alpha.reduce((s, x) => s + x, 0);
      return alpha.map((a) => a / total);
    }
    return g.map((x) => x / sum);
  }

  /** Index drawn with probability proportional to probs[i] (need not sum to 1). */
  categorical(probs: readonly number[]): number {
    let total = 0;
    for (const p of probs) {
      if (!(p >= 0) || !Number.isFinite(p)) throw new RangeError(`invalid probability ${p}`);
      total += p;
    }
    if (total <= 0) throw new RangeError('categorical needs a positive total probability');
    let u = this.next() * total;
    let lastPositive = 0;
    for (let i = 0; i < probs.length; i++) {
      const p = probs[i] ?? 0;
      if (p > 0) lastPositive = i;
      if (u < p) return i;
      u -= p;
    }
    // Floating-point leftovers land on the last index that can actually occur.
    return lastPositive;
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new RangeError(`int needs integers lo <= hi, got ${lo}, ${hi}`);
    }
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Bernoulli(p). */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = array[i] as T;
      array[i] = array[j] as T;
      array[j] = tmp;
    }
    return array;
  }
}
