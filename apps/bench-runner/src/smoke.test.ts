// `lwz-bench smoke` on fixture folders: every suite runs in its own process once per baseline, a missing
// system library only skips its baseline, and a suite that cannot load or whose correctness check throws
// makes the smoke fail with the reason.
import { fileURLToPath } from 'node:url';
import { run, summary } from './commands/smoke';

const fixtures = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const quiet = (): void => undefined;

describe('lwz-bench smoke', () => {
  it('runs each suite once per baseline; a missing library is a note, not a failure', async () => {
    const calls = await run({ dir: fixtures('benchmarks') }, quiet);
    expect(calls.map((c) => [c.suite, c.baseline, c.ok, c.records])).toEqual([
      ['tiny', 'fake', true, 2],
      ['tiny', 'missing', true, 2],
      ['tiny', 'probe', true, 2],
    ]);
    expect(calls[0].notes.join('\n')).toMatch(/baseline fake: /);
    expect(calls[1].notes.join('\n')).toMatch(/baseline missing skipped \(smoke mode\)/);
    expect(calls[0].skipped).toBe(1); // the fixture's "missing kernel" case, shown, not hidden
    expect(summary(calls)).toContain('| tiny | missing | ok |');
  }, 60000);

  it('fails a suite whose correctness check throws, and one that does not load', async () => {
    const [broken] = await run({ dir: fixtures('benchmarks-failing') }, quiet);
    expect(broken).toMatchObject({ suite: 'broken-check', ok: false });
    expect(broken.error).toMatch(/exit 1[\s\S]*ids differ from the reference at position 3/);
    const [wrong] = await run({ dir: fixtures('benchmarks-bad') }, quiet);
    expect(wrong).toMatchObject({ suite: 'wrong', ok: false });
    expect(wrong.error).toMatch(/exports suite "other"/);
  }, 60000);
});

describe('model-vs-torch without PyTorch', () => {
  it('still times our side and says torch is unavailable', async () => {
    const { run: runSuite } = await import('./commands/run');
    const before = process.env.LWZ_TORCH_PYTHON;
    process.env.LWZ_TORCH_PYTHON = '/nonexistent/python3';
    try {
      const r = await runSuite({ suite: 'model-vs-torch', smoke: true, filter: 'tiny B=8' }, quiet);
      expect(r.skipped).toEqual([]);
      expect(r.records).toHaveLength(1);
      expect(r.records[0].median_ms).toBeGreaterThan(0);
      expect(String(r.records[0].extra?.torch)).toMatch(/^unavailable: \/nonexistent\/python3 cannot import torch/);
    } finally {
      if (before === undefined) delete process.env.LWZ_TORCH_PYTHON;
      else process.env.LWZ_TORCH_PYTHON = before;
    }
  }, 60000);
});
