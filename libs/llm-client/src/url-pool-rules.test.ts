// UrlPool's cool-down arithmetic and parseRetryAfterMs's floor at 0, against hand-computed waits (random() = 1, so
// the backoff step is exactly base * 2^(failures - 1)): a capped Retry-After, a Retry-After shorter than the URL's own
// backoff, a shorter cool-down from a request in flight, and the soonest of several cooling URLs.
import { parseRetryAfterMs } from './backoff';
import { UrlPool } from './url-pool';

const timing = { backoffBaseMs: 100, backoffMaxMs: 1000, maxRetryAfterMs: 5000, random: () => 1 };

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
