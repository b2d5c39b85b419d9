// Seeded, splittable random numbers: xoshiro128** on 32-bit integer maths, so the same seed gives the same
// stream on every machine and JS engine. Not cryptographic. Children derived with `split(key)` are
// independent streams (per worker, per sample) that do not disturb the parent's stream.

/** splitmix32: turns any 32-bit value into a well-mixed one; used for seeding and key derivation. */
export function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** 32-bit FNV-1a of a string, for deriving streams from names such as "sample/17". */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// Math's functions bound once per module: inside a vm context (jest runs every test file in one) each `Math.x`
// is a lookup on the context's global object, which cost more than the arithmetic itself (1 us per nextU32).
const { imul, sqrt, log, sin, cos, PI } = Math;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Everything needed to resume a stream exactly (JSON-serialisable). */
export interface RngState {
  s: [number, number, number, number];
  spareNormal: number | null;
}

export class Rng {
  private s: Uint32Array; // (4,) xoshiro128 state
  private spareNormal: number | null = null;

  constructor(seed: number | RngState) {
    this.s = new Uint32Array(4);
    if (typeof seed === 'object') {
      this.s.set(seed.s);
      this.spareNormal = seed.spareNormal;
    } else {
      if (!Number.isSafeInteger(seed)) throw new Error(`Rng seed must be a safe integer, got ${seed}`);
      let x = (seed >>> 0) ^ splitmix32(Math.floor(seed / 2 ** 32));
      for (let i = 0; i < 4; i++) {
        x = splitmix32(x + i);
        this.s[i] = x;
      }
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** The next uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = imul(rotl(imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`Rng.int needs a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = sqrt(-2 * log(u));
    this.spareNormal = r * sin(2 * PI * v);
    return r * cos(2 * PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick on an empty list');
    return items[this.int(items.length)];
  }

  /** An independent child stream named by `key`; the parent stream is not advanced. */
  split(key: number | string): Rng {
    const k = typeof key === 'string' ? hashString(key) : key >>> 0;
    const s: RngState['s'] = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) s[i] = splitmix32(this.s[i] ^ splitmix32(k + i * 0x632be5ab));
    return new Rng({ s, spareNormal: null });
  }

  /** The full state, for checkpoints; `new Rng(state)` resumes the exact stream. */
  state(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spareNormal: this.spareNormal };
  }
}
