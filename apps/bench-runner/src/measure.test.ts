// timeFunction on a device that queues work: the backend's synchronize() is part of every timed call, so a
// GPU kernel's time is measured rather than its launch.
import { timeFunction } from './measure';

describe('timeFunction', () => {
  it('synchronises the device after each timed call, warmup included', async () => {
    const order: string[] = [];
    const ctx = { device: 'cuda' as const, threads: 1, smoke: false };
    const r = await timeFunction('k', () => order.push('run'), ctx, { iterations: 2, minTimeMs: 0, synchronize: () => order.push('sync') });
    expect(r.samples).toBeGreaterThanOrEqual(2);
    expect(order.length % 2).toBe(0);
    for (let i = 0; i < order.length; i += 2) expect(order.slice(i, i + 2)).toEqual(['run', 'sync']);
  });

  it('adds nothing for host devices (no synchronize given)', async () => {
    let calls = 0;
    await timeFunction('k', () => calls++, { device: 'cpu', threads: 1, smoke: true }, { iterations: 1, minTimeMs: 0 });
    expect(calls).toBe(1);
  });
});
