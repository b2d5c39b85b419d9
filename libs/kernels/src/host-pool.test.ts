// Recycling of host tensor memory: a disposed tensor's buffer comes back zero-filled (or as it was left, for an
// uninitialised allocation) for the next allocation of its dtype and size (from 64 KiB: of any size in its capacity
// class), unless its array was handed out (data, f32, i32, toHost; not readHost, which only lends it) or adopted
// from the caller, or a view still covers it; the pool's byte bound and
// LWZ_HOST_POOL_MB hold, the oldest free buffers making room for newer ones; a poisoning pool (tests) fills what
// comes back with NaN / -2^31.
import { UserError } from '@lwz/core';
import { hostBackend } from './backend';
import {
  HostPool,
  POOL_CLASS_MIN_BYTES,
  POOL_DEFAULT_MB,
  POOL_MIN_VALUES,
  poolCapFromEnv,
  poolCapacity,
  poolPoisonFromEnv,
} from './host-pool';
import { Tensor, type DType } from './index';

const N = POOL_MIN_VALUES * 2;

function setup(capBytes = 1 << 24) {
  const pool = new HostPool(capBytes);
  const backend = hostBackend('ref', 'pooled test backend', undefined, pool);
  const make = (size = N, dtype: DType = 'f32') => new Tensor(dtype, [size], 'ref', backend.alloc(dtype, size));
  return { pool, backend, make };
}

/** Fill a tensor the way a kernel does: through kernelData, which hands nothing out. */
function scribble(t: Tensor, value: number): Float32Array | Int32Array {
  const a = t.kernelData();
  a.fill(value);
  return a;
}

describe('HostPool', () => {
  it('gives a disposed kernel-only buffer back, zero-filled, for the same dtype and size only', () => {
    const { pool, make } = setup();
    const a = make();
    const buf = scribble(a, 7);
    a.dispose();
    expect(pool.heldBytes).toBe(N * 4);
    expect(make(N + 1).kernelData()).not.toBe(buf);
    expect(make(N, 'i32').kernelData().buffer).not.toBe(buf.buffer);
    const b = make();
    expect(b.kernelData()).toBe(buf);
    expect(Array.from(b.kernelData()).every((v) => v === 0)).toBe(true);
    expect(pool.heldBytes).toBe(0);
  });

  it('an uninitialised allocation (empty) takes a recycled buffer as it was left; poison fills what comes back', () => {
    const { backend, make } = setup();
    const a = make();
    const buf = scribble(a, 7);
    a.dispose();
    const e = new Tensor('f32', [N], 'ref', backend.alloc('f32', N, true));
    expect(e.kernelData()).toBe(buf);
    expect(Array.from(e.kernelData()).every((v) => v === 7)).toBe(true);
    const pool = new HostPool(1 << 24, true);
    const poisoned = hostBackend('ref', 'poisoned test backend', undefined, pool);
    for (const dtype of ['f32', 'i32'] as const) {
      const t = new Tensor(dtype, [N], 'ref', poisoned.alloc(dtype, N));
      const arr = scribble(t, 3);
      t.dispose();
      expect(Array.from(arr).every((v) => (dtype === 'f32' ? Number.isNaN(v) : v === -(2 ** 31)))).toBe(true);
      expect(Array.from(new Tensor(dtype, [N], 'ref', poisoned.alloc(dtype, N)).kernelData()).every((v) => v === 0)).toBe(true);
    }
  });

  it('never recycles an array handed out through data, f32, i32 or toHost', () => {
    for (const hand of [(t: Tensor) => t.data, (t: Tensor) => t.f32, (t: Tensor) => t.toHost(), (t: Tensor) => t.rows(0, 1).toHost()]) {
      const { pool, make } = setup();
      const a = make();
      scribble(a, 3);
      const held = hand(a);
      a.dispose();
      expect(pool.heldBytes).toBe(0);
      scribble(make(), 5); // a fresh buffer: the handed-out values stay
      expect(held[0]).toBe(3);
    }
    const { pool, make } = setup();
    const ids = make(N, 'i32');
    const held = ids.i32;
    ids.dispose();
    expect(pool.heldBytes).toBe(0);
    expect(held.length).toBe(N);
  });

  it('recycles an array only lent through readHost, which sees the elements (a view over the right rows)', () => {
    const { pool, make } = setup();
    const a = make();
    const buf = scribble(a, 0);
    buf.forEach((_, i) => (buf[i] = i));
    expect(a.readHost((h) => Array.from(h))).toEqual(Array.from(buf));
    const view = a.rows(1, 2);
    expect(view.readHost((h) => Array.from(h))).toEqual(Array.from(buf.subarray(1, 3)));
    view.dispose();
    expect(a.readHost((h) => h.length)).toBe(N);
    a.dispose();
    expect(pool.heldBytes).toBe(N * 4); // lent, not handed out: back in the pool
    expect(make().kernelData()).toBe(buf);
    expect(() => a.readHost((h) => h[0])).toThrow(/disposed/);
  });

  it('never recycles an array adopted from the caller, nor a small one', () => {
    const { pool, backend, make } = setup();
    const mine = new Float32Array(N).fill(2);
    new Tensor('f32', [N], 'ref', backend.upload(mine)).dispose();
    make(POOL_MIN_VALUES - 1).dispose();
    expect(pool.heldBytes).toBe(0);
    expect(mine[0]).toBe(2);
  });

  it('waits for the last view over a buffer', () => {
    const { pool, make } = setup();
    const a = make();
    const view = a.rows(2, 4);
    a.dispose();
    expect(pool.heldBytes).toBe(0);
    view.dispose();
    expect(pool.heldBytes).toBe(N * 4);
  });

  it('holds at most its byte bound, dropping the oldest free buffers for newer ones', () => {
    const { pool, make } = setup(N * 4 * 2);
    const ts = [make(), make(), make()];
    const [a, b, c] = ts.map((t) => t.kernelData());
    for (const t of ts) t.dispose(); // a, then b, then c: a is dropped to take c
    expect(pool.heldBytes).toBe(N * 4 * 2);
    expect(make().kernelData()).toBe(c); // newest first
    expect(pool.heldBytes).toBe(N * 4);
    expect(make().kernelData()).toBe(b);
    expect(make().kernelData()).not.toBe(a);
    expect(pool.heldBytes).toBe(0);
    const big = make(N * 4); // larger than the whole bound: never held, nothing dropped for it
    const kept = make();
    const keptArray = kept.kernelData();
    kept.dispose();
    big.dispose();
    expect(pool.heldBytes).toBe(N * 4);
    expect(make().kernelData()).toBe(keptArray);
  });

  it('sizes classes from 64 KiB: exact below, at most 12.5 % over above, whole values, never below the size', () => {
    expect(POOL_CLASS_MIN_BYTES).toBe(2 ** 16);
    const small = POOL_CLASS_MIN_BYTES / 4 - 1;
    expect(poolCapacity(small)).toBe(small);
    const sizes = [
      POOL_CLASS_MIN_BYTES / 4,
      20_000,
      131_072 + 1,
      600_000,
      640_000,
      700_000,
      7184 * 704,
      7056 * 704,
      2 ** 24 + 1,
      123_456_789,
    ];
    for (const size of sizes) {
      const c = poolCapacity(size);
      expect(Number.isInteger(c)).toBe(true);
      expect(c).toBeGreaterThanOrEqual(size);
      expect(c).toBeLessThanOrEqual(size * 1.125);
      expect(poolCapacity(c)).toBe(c); // a class's capacity is its own class
    }
    // a GRPO micro-batch's (rows x padded length, 704) from one batch to the next: one class
    expect(poolCapacity(7184 * 704)).toBe(poolCapacity(7056 * 704));
    expect(poolCapacity(600_000)).toBe(poolCapacity(640_000));
    expect(poolCapacity(700_000)).toBeGreaterThan(poolCapacity(640_000));
    // a train-rm micro-batch's (rows x padded length, 256) of 0.5-2 MiB from one update to the next: one class
    expect(poolCapacity(4 * 301 * 256)).toBe(poolCapacity(4 * 289 * 256));
  });

  it('reuses a class buffer (600 k values, 2.4 MB) for any size of its class, zero-filled over the new size', () => {
    const { pool, make } = setup(1 << 26);
    const a = make(600_000);
    const buf = a.kernelData().buffer;
    expect(buf.byteLength).toBeGreaterThanOrEqual(poolCapacity(600_000) * 4); // allocated with its class's capacity
    new Float32Array(buf).fill(7); // the whole buffer, past the tensor's end too
    a.dispose();
    expect(pool.heldBytes).toBe(poolCapacity(600_000) * 4);
    const b = make(640_000);
    const host = b.kernelData();
    expect(host.buffer).toBe(buf);
    expect(host.length).toBe(640_000);
    expect(host.every((v) => v === 0)).toBe(true);
    expect(pool.heldBytes).toBe(0);
    b.dispose();
    expect(make(700_000).kernelData().buffer).not.toBe(buf); // the next class
    expect(make(600_000, 'i32').kernelData().buffer).not.toBe(buf); // another dtype
    expect(make(640_000).kernelData().buffer).toBe(buf);
  });

  it('leaves to the GC an array whose buffer lacks its class capacity', () => {
    const pool = new HostPool(1 << 26);
    pool.give('f32', new Float32Array(600_000)); // exactly its size: shorter than poolCapacity(600_000)
    expect(pool.heldBytes).toBe(0);
    pool.give('f32', new Float32Array(new ArrayBuffer(poolCapacity(600_000) * 4), 0, 600_000));
    expect(pool.heldBytes).toBe(poolCapacity(600_000) * 4);
  });

  it('reads its bound from LWZ_HOST_POOL_MB, naming the variable when it is wrong', () => {
    expect(poolCapFromEnv({})).toBe(POOL_DEFAULT_MB * 2 ** 20);
    expect(poolCapFromEnv({ LWZ_HOST_POOL_MB: '0' })).toBe(0);
    expect(poolCapFromEnv({ LWZ_HOST_POOL_MB: '64' })).toBe(64 * 2 ** 20);
    for (const bad of ['-1', '1.5', 'lots']) {
      const read = () => poolCapFromEnv({ LWZ_HOST_POOL_MB: bad });
      expect(read).toThrow(UserError); // the user's setting: shown without a stack trace
      expect(read).toThrow(`LWZ_HOST_POOL_MB=${bad} is not a whole number of MiB >= 0: set it to the MiB of freed host buffers kept`);
      expect(read).toThrow(`(0 turns recycling off), or unset it (default ${POOL_DEFAULT_MB})`);
    }
    expect([
      poolPoisonFromEnv({}),
      poolPoisonFromEnv({ LWZ_HOST_POOL_POISON: '0' }),
      poolPoisonFromEnv({ LWZ_HOST_POOL_POISON: '1' }),
    ]).toEqual([false, false, true]);
  });
});
