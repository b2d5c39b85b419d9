// Recycling of host tensor memory: a disposed tensor's buffer comes back zero-filled for the next allocation
// of its dtype and size, unless its array was handed out (data, f32, i32, toHost) or adopted from the caller,
// or a view still covers it; the pool's byte bound and LWZ_HOST_POOL_MB hold.
import { hostBackend } from './backend';
import { HostPool, POOL_DEFAULT_MB, POOL_MIN_VALUES, poolCapFromEnv } from './host-pool';
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

  it('holds at most its byte bound', () => {
    const { pool, make } = setup(N * 4 * 2);
    const ts = [make(), make(), make()];
    for (const t of ts) t.dispose();
    expect(pool.heldBytes).toBe(N * 4 * 2);
    make();
    expect(pool.heldBytes).toBe(N * 4);
  });

  it('reads its bound from LWZ_HOST_POOL_MB, naming the variable when it is wrong', () => {
    expect(poolCapFromEnv({})).toBe(POOL_DEFAULT_MB * 2 ** 20);
    expect(poolCapFromEnv({ LWZ_HOST_POOL_MB: '0' })).toBe(0);
    expect(poolCapFromEnv({ LWZ_HOST_POOL_MB: '64' })).toBe(64 * 2 ** 20);
    for (const bad of ['-1', '1.5', 'lots']) {
      expect(() => poolCapFromEnv({ LWZ_HOST_POOL_MB: bad })).toThrow(`LWZ_HOST_POOL_MB=${bad} must be a whole number of MiB >= 0`);
    }
  });
});
