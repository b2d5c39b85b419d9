// The run command end to end on the fake `tiny` suite: smoke mode, the JSON record format, the Markdown
// output, a C baseline with its ratio, and the errors for bad options.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './commands/run';
import { formatNumber } from './records';

const dir = fileURLToPath(new URL('./fixtures/benchmarks', import.meta.url));
const counter = globalThis as { __tinyBenchCalls?: number; __tinyProbeCalls?: number };
const quiet = (): void => undefined;
const hasCc = (() => {
  try {
    execFileSync(process.env.CC ?? 'cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let out: string;
const threadsEnv = process.env.LWZ_THREADS;
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'lwz-bench-test-'));
  counter.__tinyBenchCalls = 0;
  counter.__tinyProbeCalls = 0;
});
afterEach(() => {
  rmSync(out, { recursive: true, force: true });
  if (threadsEnv === undefined)
    delete process.env.LWZ_THREADS; // run() sets it for --threads
  else process.env.LWZ_THREADS = threadsEnv;
});

describe('lwz-bench run', () => {
  it('times our own kernels unless LWZ_BLAS says otherwise (auto would route shapes to an installed OpenBLAS, timing it against itself)', async () => {
    const blasEnv = process.env.LWZ_BLAS;
    try {
      delete process.env.LWZ_BLAS;
      await run({ suite: 'tiny', dir, smoke: true, device: 'ref' }, quiet);
      expect(process.env.LWZ_BLAS).toBe('own');
      process.env.LWZ_BLAS = 'auto';
      await run({ suite: 'tiny', dir, smoke: true, device: 'ref' }, quiet);
      expect(process.env.LWZ_BLAS).toBe('auto');
    } finally {
      if (blasEnv === undefined) delete process.env.LWZ_BLAS;
      else process.env.LWZ_BLAS = blasEnv;
    }
  });

  it('smoke mode calls each timed function once and writes the JSON records', async () => {
    const json = join(out, 'r.json');
    const markdown = join(out, 'r.md');
    const result = await run({ suite: 'tiny', dir, smoke: true, json, markdown, device: 'ref', threads: 3 }, quiet);
    expect(readFileSync(markdown, 'utf8')).toBe(result.markdown);
    expect(counter.__tinyBenchCalls).toBe(1);
    const records = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>[];
    expect(records).toEqual(result.records);
    expect(records.map((r) => r.name)).toEqual(['sum 1000', 'measured']);
    const sum = records[0];
    for (const key of ['suite', 'name', 'params', 'median_ms', 'throughput', 'unit', 'device', 'threads']) expect(sum).toHaveProperty(key);
    expect(sum).toMatchObject({
      suite: 'tiny',
      params: { N: 1000 },
      unit: 'GB/s',
      device: 'ref',
      threads: 3,
      iterations: 1,
      smoke: true,
    });
    expect(sum.throughput as number).toBeCloseTo(8000 / ((sum.median_ms as number) / 1000) / 1e9, 9);
    const tokensPerS = formatNumber(1000 / ((sum.median_ms as number) / 1000));
    expect(sum.extra).toEqual({ also: `${tokensPerS} tokens/s over 1,000 tokens (N)` });
    expect(records[1]).toMatchObject({
      median_ms: 4,
      throughput: 42,
      unit: 'B/token',
      extra: { method: 'fixed' },
      details: '| part | ms |',
    });
    expect(result.markdown).toContain('### measured\n\n| part | ms |');
    expect(result.skipped).toEqual([{ suite: 'tiny', name: 'missing kernel', params: { N: 1 }, reason: 'no such kernel' }]);
    expect(result.markdown).toContain('| missing kernel | N=1 |');
    expect(result.markdown).toContain('threads: 3; smoke');
  });

  it('BENCH_SMOKE=1 means smoke; otherwise the minimum iterations run after a warmup', async () => {
    process.env.BENCH_SMOKE = '1';
    try {
      const smoke = await run({ suite: 'tiny', dir, device: 'ref', filter: '^sum' }, quiet);
      expect(smoke.records[0].smoke).toBe(true);
    } finally {
      delete process.env.BENCH_SMOKE;
    }
    counter.__tinyBenchCalls = 0;
    const full = await run({ suite: 'tiny', dir, device: 'ref', filter: '^sum', iterations: 7, minTimeMs: 0 }, quiet);
    expect(full.records[0].iterations).toBeGreaterThanOrEqual(7);
    expect(counter.__tinyBenchCalls).toBeGreaterThanOrEqual(8);
  });

  (hasCc ? it : it.skip)('runs a C-harness baseline side by side and reports baseline_ms / ours_ms', async () => {
    const result = await run({ suite: 'tiny', dir, smoke: true, device: 'ref', baseline: 'fake' }, quiet);
    const sum = result.records.find((r) => r.name === 'sum 1000');
    expect(sum?.baseline?.name).toBe('fake');
    expect(sum?.baseline?.median_ms).toBe(2.5);
    expect(sum?.baseline?.ratio).toBeCloseTo(2.5 / (sum?.median_ms ?? NaN), 12);
    expect(result.records.find((r) => r.name === 'measured')?.baseline).toBeUndefined();
    expect(result.markdown).toContain('fake harness, 1 iterations');
    expect(result.markdown).toContain('| fake ms | ratio fake/ours |');
  });

  it('times an in-process baseline alternately with each matching case', async () => {
    const result = await run({ suite: 'tiny', dir, smoke: true, device: 'ref', baseline: 'probe' }, quiet);
    const sum = result.records.find((r) => r.name === 'sum 1000');
    // smoke: one pair, no warmup
    expect(counter.__tinyProbeCalls).toBe(1);
    expect(counter.__tinyBenchCalls).toBe(1);
    expect(sum?.iterations).toBe(1);
    expect(sum?.baseline?.name).toBe('probe');
    expect(sum?.baseline?.pairs).toBe(1);
    expect(sum?.baseline?.ratio).toBeCloseTo((sum?.baseline?.median_ms ?? NaN) / (sum?.median_ms ?? NaN), 12);
    expect(result.records.find((r) => r.name === 'measured')?.baseline).toBeUndefined();
    expect(result.markdown).toContain('baseline probe: fake probe filling N doubles, timed alternately with each case, call by call');
    expect(result.markdown).toContain('| probe ms | ratio probe/ours |');
  });

  it('a timing run with an in-process baseline calls both sides once to warm up, then in pairs', async () => {
    const result = await run({ suite: 'tiny', dir, device: 'ref', baseline: 'probe', iterations: 4, minTimeMs: 0 }, quiet);
    const sum = result.records.find((r) => r.name === 'sum 1000');
    expect(sum?.baseline?.pairs).toBe(4);
    expect(sum?.iterations).toBe(4);
    expect(counter.__tinyProbeCalls).toBe(5);
    expect(counter.__tinyBenchCalls).toBe(5);
  });

  it('a baseline whose library is missing: smoke mode notes it and runs our side, a timing run stops', async () => {
    const smoke = await run({ suite: 'tiny', dir, smoke: true, device: 'ref', baseline: 'missing' }, quiet);
    expect(smoke.records.map((r) => r.name)).toEqual(['sum 1000', 'measured']);
    expect(smoke.records[0].baseline).toBeUndefined();
    expect(smoke.markdown).toMatch(/- baseline missing skipped \(smoke mode\): --baseline missing needs no-such-header-lwz\.h/);
    await expect(run({ suite: 'tiny', dir, device: 'ref', baseline: 'missing', minTimeMs: 0 }, quiet)).rejects.toThrow(
      /install it with: apt-get install libnosuchlwz-dev/,
    );
  });

  it('names the valid suites, baselines and option values when one is wrong', async () => {
    await expect(run({ suite: 'nope', dir }, quiet)).rejects.toThrow(/unknown suite "nope".*valid suites: tiny/);
    await expect(run({ suite: 'tiny', dir, baseline: 'mkl' }, quiet)).rejects.toThrow(/no such baseline; valid: fake, missing, probe/);
    await expect(run({ suite: 'tiny', dir, threads: 0 }, quiet)).rejects.toThrow(/threads/);
    await expect(run({ suite: 'tiny', dir, filter: '(' }, quiet)).rejects.toThrow(/--filter \( is not a regular expression/);
    // a filter that matches nothing: named with the suite's cases, not an empty table and exit 0
    await expect(run({ suite: 'tiny', dir, device: 'ref', smoke: true, filter: 'zzz' }, quiet)).rejects.toThrow(
      /--filter zzz matches no case of suite tiny; its cases: .*sum/,
    );
    // an output path that is a directory is named before the suite runs
    await expect(run({ suite: 'tiny', dir, smoke: true, device: 'ref', json: out }, quiet)).rejects.toThrow(`--json ${out} is a directory`);
    // an empty path (`--json "$OUT"` with OUT unset) is named, not taken as "write no file" with exit 0
    await expect(run({ suite: 'tiny', dir, smoke: true, device: 'ref', json: '' }, quiet)).rejects.toThrow(
      '--json: is empty: give a path (an unset shell variable?)',
    );
    // and a directory path that does not exist yet (a trailing slash): the records would be lost after the run
    await expect(run({ suite: 'tiny', dir, smoke: true, device: 'ref', json: join(out, 'new') + '/' }, quiet)).rejects.toThrow(
      `--json ${join(out, 'new')}/ ends in a slash, so it names a directory: give the path of a file to write (e.g. ${join(out, 'new')}/records.json)`,
    );
    // so is a file in the way of its folder
    const file = join(out, 'file.txt');
    writeFileSync(file, 'x');
    await expect(run({ suite: 'tiny', dir, smoke: true, device: 'ref', markdown: join(file, 'r.md') }, quiet)).rejects.toThrow(
      `${file} (or a folder above it) is a file, not a directory`,
    );
    expect(counter.__tinyBenchCalls).toBe(0);
  });
});
