// The learnability summary of a GRPO run: means of the first and last N steps, checked against sums done by
// hand; missing or non-numeric values are left out, not counted as 0. Not a test of the HTML (train-cli does).
import { trend } from './report';

describe('trend', () => {
  it('averages the first and the last window of steps', () => {
    const rows = Array.from({ length: 25 }, (_, i) => ({ step: i + 1, 'reward/length/mean': i, 'format/valid': i < 10 ? 0 : 1 }));
    const t = trend(rows, 10);
    expect(t.window).toBe(10);
    expect(t.means['reward/length/mean'][0]).toBeCloseTo(4.5, 12); // (0 + ... + 9) / 10
    expect(t.means['reward/length/mean'][1]).toBeCloseTo(19.5, 12); // (15 + ... + 24) / 10
    expect(t.means['format/valid']).toEqual([0, 1]);
    expect(t.means['repetition/rate'][0]).toBeNaN();
  });

  it('skips missing values and shrinks the window to a short run', () => {
    const rows = [{ 'reward/format/mean': 1 }, { 'reward/format/mean': 'x' }, { 'reward/format/mean': 0.5 }];
    const t = trend(rows, 10);
    expect(t.window).toBe(3);
    expect(t.means['reward/format/mean']).toEqual([0.75, 0.75]);
  });
});
