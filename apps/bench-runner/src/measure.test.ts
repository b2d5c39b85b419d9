// timeFunction on a device that queues work: the backend's synchronize() is part of every timed call, so a
// GPU kernel's time is measured rather than its launch. timePaired (in-process baselines) on a fake clock.
import { timeFunction, timePaired } from './measure';

describe('timeFunction', () => {
  it('synchronises the device after each timed call, warmup included', async () => {
    const order: string[] = [];
    const ctx = { device: 'cuda' as const, threads: 1, smoke: false };
    const r = await timeFunction('k', () => order.push('run'), ctx, { iterations: 2, minTimeMs: 0, synchronize: () => order.push('sync') });
    expect(r.samples).toBeGreaterThanOrEqual(2);
    expect(order.length % 2).toBe(0);
    for (let i = 0; i < order.length; i += 2) expect(order.slice(i, i + 2)).toEqual(['run', 'sync']);
  });

  it('runs beforeEach before every call, warmup included, outside the timed window', async () => {
    const order: string[] = [];
    const ctx = { device: 'cpu' as const, threads: 1, smoke: false };
    let busy = 0;
    const r = await timeFunction(
      'k',
      () => order.push('run'),
      ctx,
      { iterations: 3, minTimeMs: 0 },
      () => {
        order.push('before');
        const until = performance.now() + 20; // 20 ms of work before each call: not in the median
        while (performance.now() < until) busy++;
      },
    );
    expect(busy).toBeGreaterThan(0);
    expect(order.length).toBeGreaterThanOrEqual(8); // one warmup and at least three timed calls
    for (let i = 0; i < order.length; i += 2) expect(order.slice(i, i + 2)).toEqual(['before', 'run']);
    expect(r.medianMs).toBeLessThan(10);
  });

  it('adds nothing for host devices (no synchronize given)', async () => {
    let calls = 0;
    await timeFunction('k', () => calls++, { device: 'cpu', threads: 1, smoke: true }, { iterations: 1, minTimeMs: 0 });
    expect(calls).toBe(1);
  });
});

describe('timePaired', () => {
  /** A clock that only moves when a fake function runs: ours costs oursMs[i], the baseline baseMs[i] at call i. */
  function fakeRun(oursMs: number[], baseMs: number[]) {
    let clock = 0;
    const calls: string[] = [];
    let o = 0;
    let b = 0;
    return {
      calls,
      now: () => clock,
      ours: () => {
        calls.push('ours');
        clock += oursMs[Math.min(o++, oursMs.length - 1)];
      },
      base: () => {
        calls.push('base');
        clock += baseMs[Math.min(b++, baseMs.length - 1)];
      },
    };
  }
  const host = { device: 'cpu' as const, threads: 1, smoke: false };

  it('alternates which side goes first, after one warmup call each', () => {
    const f = fakeRun([1], [1]);
    const r = timePaired(f.ours, f.base, host, { iterations: 4, minTimeMs: 0 }, f.now);
    expect(r.pairs).toBe(4);
    expect(f.calls).toEqual(['ours', 'base', 'ours', 'base', 'base', 'ours', 'ours', 'base', 'base', 'ours']);
  });

  it('reports the median of the per-pair ratios, not the ratio of the medians', () => {
    // calls 0 and 1 are the warmups; the pairs then see ours 2, 4, 10 and the baseline 1, 4, 5 in the same phases
    const f = fakeRun([9, 2, 4, 10], [9, 1, 4, 5]);
    const r = timePaired(f.ours, f.base, host, { iterations: 3, minTimeMs: 0 }, f.now);
    expect(r.oursMs).toBe(4);
    expect(r.baselineMs).toBe(4);
    // pair ratios 0.5, 1, 0.5: median 0.5 (the medians' ratio would read 1)
    expect(r.ratio).toBe(0.5);
  });

  it('samples until both the minimum pairs and twice the minimum time have passed', () => {
    const f = fakeRun([3], [2]);
    // 5 ms a pair: 2 * 50 ms needs 20 pairs, more than the 5 asked
    expect(timePaired(f.ours, f.base, host, { iterations: 5, minTimeMs: 50 }, f.now).pairs).toBe(20);
  });

  it('smoke mode: one pair, no warmup; a device sync after every timed call', () => {
    const f = fakeRun([1], [1]);
    const order: string[] = [];
    const sync = () => order.push(`sync after ${f.calls[f.calls.length - 1]}`);
    const r = timePaired(f.ours, f.base, { ...host, smoke: true }, { iterations: 9, minTimeMs: 1000, synchronize: sync }, f.now);
    expect(r.pairs).toBe(1);
    expect(f.calls).toEqual(['ours', 'base']);
    expect(order).toEqual(['sync after ours', 'sync after base']);
  });

  it("runs the case's beforeEach before every timed call of both sides, outside the timed window", () => {
    const f = fakeRun([2], [1]);
    // the hook moves the clock by 100 ms: were it timed, ours would read 102 and the ratio 101 / 102
    let hookMs = 0;
    const now = () => f.now() + hookMs;
    const before = () => {
      f.calls.push('before');
      hookMs += 100;
    };
    const r = timePaired(f.ours, f.base, host, { iterations: 2, minTimeMs: 0 }, now, before);
    expect(f.calls).toEqual(['before', 'ours', 'before', 'base', 'before', 'ours', 'before', 'base', 'before', 'base', 'before', 'ours']);
    expect([r.oursMs, r.baselineMs, r.ratio]).toEqual([2, 1, 0.5]);
  });

  it('a clock that never moves gives an error, not a NaN ratio', () => {
    expect(() =>
      timePaired(
        () => 0,
        () => 0,
        host,
        { iterations: 2, minTimeMs: 0 },
        () => 0,
      ),
    ).toThrow(/0 ms/);
  });
});
