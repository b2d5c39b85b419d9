import { Rng, splitmix32 } from './rng';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    const sb = Array.from({ length: 8 }, () => b.nextU32());
    const sc = Array.from({ length: 8 }, () => c.nextU32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('matches the xoshiro128** recurrence computed with BigInt', () => {
    const rng = new Rng(7);
    const s = rng.state().s.map(BigInt);
    const M = 0xffffffffn;
    const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
    for (let i = 0; i < 100; i++) {
      const expected = (rotl((s[1] * 5n) & M, 7n) * 9n) & M;
      const t = (s[1] << 9n) & M;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 11n);
      expect(rng.nextU32()).toBe(Number(expected));
    }
  });

  it('has uniform floats in [0,1) with the right mean and normals with mean 0, variance 1', () => {
    const rng = new Rng(1);
    let sum = 0;
    let min = 1;
    let max = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    let m = 0;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      m += z;
      v += z * z;
    }
    expect(Math.abs(m / n)).toBeLessThan(0.02);
    expect(v / n).toBeCloseTo(1, 1);
  });

  it('splits into independent children without advancing the parent', () => {
    const parent = new Rng(5);
    const before = parent.state();
    const c1 = parent.split('sample/1');
    const c2 = parent.split('sample/2');
    expect(parent.state()).toEqual(before);
    expect(c1.nextU32()).not.toBe(c2.nextU32());
    expect(new Rng(5).split('sample/1').nextU32()).toBe(new Rng(5).split('sample/1').nextU32());
  });

  it('resumes exactly from a saved state, including a cached normal', () => {
    const rng = new Rng(9);
    rng.normal(); // leaves a spare normal cached
    const saved = JSON.parse(JSON.stringify(rng.state()));
    const expected = [rng.normal(), rng.next(), rng.nextU32()];
    const resumed = new Rng(saved);
    expect([resumed.normal(), resumed.next(), resumed.nextU32()]).toEqual(expected);
  });

  it('rejects bad arguments with a clear message', () => {
    expect(() => new Rng(1.5)).toThrow(/safe integer/);
    expect(() => new Rng(1).int(0)).toThrow(/positive integer/);
    expect(() => new Rng(1).pick([])).toThrow(/empty/);
  });

  it('splitmix32 is a bijection-like mixer (no collisions on a small range)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10000; i++) seen.add(splitmix32(i));
    expect(seen.size).toBe(10000);
  });
});
