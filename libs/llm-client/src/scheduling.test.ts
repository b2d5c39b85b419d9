import { Rng } from '@lwz/core';
import { backoffDelayMs, parseRetryAfterMs, sleep } from './backoff';
import { Semaphore } from './semaphore';
import { UrlPool } from './url-pool';

describe('backoff', () => {
  it('doubles per failure within [step/2, step], capped, and the jitter follows the rng', () => {
    const rng = new Rng(3);
    for (let f = 1; f <= 12; f++) {
      const step = Math.min(1000, 10 * 2 ** (f - 1));
      const d = backoffDelayMs(f, 10, 1000, () => rng.next());
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
    const a = new Rng(9);
    const b = new Rng(9);
    expect(backoffDelayMs(4, 10, 1000, () => a.next())).toBe(backoffDelayMs(4, 10, 1000, () => b.next()));
    expect(backoffDelayMs(1, 10, 1000, () => 0)).toBe(5);
    expect(backoffDelayMs(1, 10, 1000, () => 1)).toBe(10);
  });

  it('reads retry-after-ms, Retry-After seconds and Retry-After dates', () => {
    expect(parseRetryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '0.5' }))).toBe(500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now)).toBe(3000);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfterMs(new Headers())).toBeUndefined();
  });

  it('sleep stops at an abort', async () => {
    const c = new AbortController();
    const t0 = Date.now();
    setTimeout(() => c.abort(new Error('stop')), 10);
    await expect(sleep(5000, c.signal)).rejects.toThrow('stop');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

/** random() = 1: a backoff step is exactly base * 2^(failures - 1) */
const timing = { backoffBaseMs: 100, backoffMaxMs: 1000, maxRetryAfterMs: 5000, random: () => 1 };

describe('url pool', () => {
  it('goes round-robin and skips a cooling URL while another is ready', () => {
    const pool = new UrlPool(['a', 'b', 'c'], timing);
    expect([0, 0, 0, 0].map(() => pool.pick(0).url)).toEqual(['a', 'b', 'c', 'a']);
    expect(pool.failure(1, 0)).toBe(100);
    expect([0, 0, 0, 0].map(() => pool.pick(50).url)).toEqual(['c', 'a', 'c', 'a']);
    expect(pool.pick(100).url).toBe('b');
  });

  it('waits for the soonest URL when all cool down, honouring Retry-After up to its cap', () => {
    const pool = new UrlPool(['a', 'b'], timing);
    pool.failure(0, 0, 700);
    pool.failure(1, 0, 99_999);
    expect(pool.pick(0)).toEqual({ index: 0, url: 'a', waitMs: 700 });
    pool.failure(0, 1000);
    pool.failure(0, 1000); // a request in flight with the one above: the same failure, no longer cool-down
    expect(pool.pick(1000)).toEqual({ index: 0, url: 'a', waitMs: 200 }); // second failure in a row: 100 * 2^1
    pool.failure(0, 1200);
    expect(pool.pick(1200)).toEqual({ index: 0, url: 'a', waitMs: 400 }); // third (after the cool-down): 100 * 2^2
    pool.success(0);
    pool.failure(0, 2000);
    expect(pool.pick(2000).waitMs).toBe(100);
  });

  it('avoids the URL that just failed when another is ready', () => {
    const pool = new UrlPool(['a', 'b'], { ...timing, backoffBaseMs: 0 });
    pool.pick(0);
    pool.failure(1, 0);
    expect(pool.pick(0, 1).url).toBe('a');
  });
});

// UrlPool's cool-down arithmetic and parseRetryAfterMs's floor at 0 against hand-computed waits: a capped
// Retry-After, one shorter than the URL's own backoff, a shorter cool-down from a request in flight, the soonest of
// several cooling URLs
describe('url pool cool-downs', () => {
  it('caps a Retry-After at maxRetryAfterMs, and never waits less than its own backoff', () => {
    expect(new UrlPool(['a'], timing).failure(0, 0, 99_999)).toBe(5000);
    expect(new UrlPool(['a'], timing).failure(0, 0, 10)).toBe(100); // the first backoff step, 100, beats a 10 ms Retry-After
    expect(new UrlPool(['a'], timing).failure(0, 0, 700)).toBe(700);
  });

  it('keeps the longer cool-down when a request in flight fails with a shorter one', () => {
    const pool = new UrlPool(['a'], timing);
    pool.failure(0, 0, 700); // ready at 700
    pool.failure(0, 10); // the same failure seen by a request in flight: step 100 from 10 would end at 110
    expect(pool.pick(10)).toEqual({ index: 0, url: 'a', waitMs: 690 });
  });

  it('waits for the soonest URL when every one cools down, wherever it is in the list', () => {
    const pool = new UrlPool(['a', 'b', 'c'], timing);
    pool.failure(0, 0, 900);
    pool.failure(1, 0, 300);
    pool.failure(2, 0, 600);
    expect(pool.pick(0)).toEqual({ index: 1, url: 'b', waitMs: 300 });
  });

  it('reads a Retry-After in the past, or negative, as no wait', () => {
    const now = Date.parse('2025-01-01T00:00:10Z');
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now)).toBe(0);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '-5' }))).toBe(0);
    expect(parseRetryAfterMs(new Headers({ 'retry-after-ms': '-20' }))).toBe(0);
  });
});

describe('semaphore', () => {
  it('admits at most `limit` holders, in arrival order', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const release = await s.acquire();
        order.push(i);
        peak = Math.max(peak, s.inUse);
        await sleep(5);
        release();
        release(); // twice is harmless
      }),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.inUse).toBe(0);
  });
});
