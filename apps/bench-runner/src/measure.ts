import { UserError } from '@lwz/core';
// Running one suite's cases: untimed setup, then tinybench times the case's function (median of the
// samples), or a measured case reports its own numbers. Produces records and visible skips; baselines and
// output files are the caller's business (commands/run.ts).
import { Bench } from 'tinybench';
import {
  isMeasuredCase,
  isSkip,
  type BenchCase,
  type BenchSuite,
  type Prepared,
  type SuiteContext,
  type TimedCase,
  type Work,
} from './suite-format';
import { formatNumber, formatWork, throughputOf, type BenchRecord, type SkippedCase } from './records';

export interface TimingSettings {
  /** minimum timed iterations per case (smoke: 1) */
  iterations: number;
  /** keep sampling a case until this much time has passed (smoke: 0) */
  minTimeMs: number;
  /** case names to run (all when undefined) */
  filter?: RegExp;
  /** waits for the device's queued work (a GPU runs kernels asynchronously); part of every timed call */
  synchronize?: () => void;
}

export interface SuiteRun {
  records: BenchRecord[];
  skipped: SkippedCase[];
}

/** Median latency (ms) of `fn` over the configured iterations, after one warmup call unless smoking. */
export async function timeFunction(
  name: string,
  fn: () => unknown,
  ctx: SuiteContext,
  t: TimingSettings,
  beforeEach?: () => void,
): Promise<{ medianMs: number; samples: number }> {
  const bench = new Bench({
    iterations: ctx.smoke ? 1 : t.iterations,
    time: ctx.smoke ? 0 : t.minTimeMs,
    warmup: !ctx.smoke,
    warmupIterations: 1,
    warmupTime: 0,
    throws: true,
  });
  const sync = t.synchronize;
  const timed = sync
    ? () => {
        fn();
        sync();
      }
    : fn;
  // known sync: tinybench would otherwise call fn once more to find out; beforeEach runs outside the timed window
  bench.add(name, timed, { async: false, ...(beforeEach ? { beforeEach: () => beforeEach() } : {}) });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`benchmark ${name} ended in state ${result.state}`);
  return { medianMs: result.latency.p50, samples: result.latency.samplesCount };
}

export interface PairedTiming {
  /** median of our calls (ms) */
  oursMs: number;
  /** median of the baseline's calls (ms) */
  baselineMs: number;
  /** median over the pairs of baseline ms / ours ms (> 1: ours is faster) */
  ratio: number;
  pairs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/**
 * Our function and an in-process baseline called alternately, each call timed alone: pair i runs ours, then the
 * baseline, for even i, and the other way round for odd i, so neither side always runs right after the other
 * (a call can find the other's data in the caches, or its own evicted), until at least `iterations` pairs and
 * `2 * minTimeMs` (both sides' sampling time) have passed; first one untimed call each, none in smoke mode (one
 * pair). A machine whose speed moves in phases of seconds (a shared host's memory) moves both calls of a pair
 * alike, so the median of the per-pair ratios holds where a ratio of two medians sampled one after the other moves
 * with the phase: on a Zen 5 VM, six repeats of each, the spread of log-softmax / RMSNorm backward / RoPE against
 * the copy was 0.043 / 0.021 / 0.015 paired against 0.058 / 0.055 / 0.102 one after the other, the centres within
 * 0.03 (benchmarks/README.md, "2026-11-30 23:28"). `now` is the clock (tests pass a fake one); `beforeEach` (the
 * case's, untimed) runs before every timed call of either side.
 */
export function timePaired(
  ours: () => unknown,
  baseline: () => unknown,
  ctx: SuiteContext,
  t: TimingSettings,
  now: () => number = () => performance.now(),
  beforeEach?: () => void,
): PairedTiming {
  const sync = t.synchronize;
  const timed = (fn: () => unknown): number => {
    beforeEach?.();
    const t0 = now();
    fn();
    sync?.();
    return now() - t0;
  };
  if (!ctx.smoke) {
    timed(ours);
    timed(baseline);
  }
  const minPairs = ctx.smoke ? 1 : Math.max(1, t.iterations);
  const minTime = ctx.smoke ? 0 : 2 * t.minTimeMs;
  const oursMs: number[] = [];
  const baseMs: number[] = [];
  const ratios: number[] = [];
  const start = now();
  for (let i = 0; oursMs.length < minPairs || now() - start < minTime; i++) {
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = timed(ours);
      b = timed(baseline);
    } else {
      b = timed(baseline);
      a = timed(ours);
    }
    oursMs.push(a);
    baseMs.push(b);
    if (a > 0 && b > 0) ratios.push(b / a);
  }
  if (ratios.length === 0) throw new Error('paired timing: every call took 0 ms on this clock, so no ratio can be formed');
  return { oursMs: median(oursMs), baselineMs: median(baseMs), ratio: median(ratios), pairs: oursMs.length };
}

/**
 * An in-process baseline timed call by call against a case (timePaired): for a timed case it returns the
 * baseline's name and its prepared function (runCase disposes it), or undefined to time the case alone.
 */
export type PairWith = (c: TimedCase) => { name: string; prepared: Prepared } | undefined;

/** Notes for a case's second work view: "8.1 GB/s over 67 MB (4*(M*K + K*N + M*N))". */
function alsoThroughput(work: Work, medianMs: number): Record<string, string> {
  const { throughput, unit } = throughputOf(work, medianMs);
  return { also: `${formatNumber(throughput)} ${unit} over ${formatWork(work)}` };
}

async function runCase(
  suite: string,
  c: BenchCase,
  ctx: SuiteContext,
  t: TimingSettings,
  pairWith?: PairWith,
): Promise<BenchRecord | SkippedCase> {
  const base = { suite, name: c.name, params: c.params };
  const common = { device: ctx.device, threads: ctx.threads, smoke: ctx.smoke };
  if (isMeasuredCase(c)) {
    const m = await c.measure(ctx);
    if (isSkip(m)) return { ...base, reason: m.skip };
    return {
      ...base,
      median_ms: m.median_ms,
      throughput: m.throughput,
      unit: m.unit,
      ...common,
      iterations: 1,
      extra: m.extra,
      ...(m.details ? { details: m.details } : {}),
    };
  }
  const prepared = await c.setup(ctx);
  if (isSkip(prepared)) return { ...base, reason: prepared.skip };
  let paired: { name: string; prepared: Prepared } | undefined;
  try {
    paired = pairWith?.(c);
    if (paired) {
      const p = timePaired(prepared.fn, paired.prepared.fn, ctx, t, undefined, prepared.beforeEach);
      return {
        ...base,
        median_ms: p.oursMs,
        ...throughputOf(c.work, p.oursMs),
        ...common,
        iterations: p.pairs,
        work: c.work,
        ...(c.alsoWork ? { extra: alsoThroughput(c.alsoWork, p.oursMs) } : {}),
        baseline: { name: paired.name, median_ms: p.baselineMs, ratio: p.ratio, pairs: p.pairs },
      };
    }
    const { medianMs, samples } = await timeFunction(c.name, prepared.fn, ctx, t, prepared.beforeEach);
    return {
      ...base,
      median_ms: medianMs,
      ...throughputOf(c.work, medianMs),
      ...common,
      iterations: samples,
      work: c.work,
      ...(c.alsoWork ? { extra: alsoThroughput(c.alsoWork, medianMs) } : {}),
    };
  } finally {
    paired?.prepared.dispose?.();
    prepared.dispose?.();
  }
}

/**
 * Run every (filtered) case of `suite` in order; `log` gets one progress line per case. `pairWith` gives, per timed
 * case, an in-process baseline to time alternately with it (timePaired).
 */
export async function runSuite(
  suite: BenchSuite,
  ctx: SuiteContext,
  t: TimingSettings,
  log: (line: string) => void,
  pairWith?: PairWith,
): Promise<SuiteRun> {
  const out: SuiteRun = { records: [], skipped: [] };
  const all = suite.cases(ctx);
  const cases = all.filter((c) => !t.filter || t.filter.test(c.name));
  if (t.filter && cases.length === 0)
    throw new UserError(
      `--filter ${t.filter.source} matches no case of suite ${suite.suite}; its cases: ${all.map((c) => c.name).join(', ')}`,
    );
  for (const c of cases) {
    const r = await runCase(suite.suite, c, ctx, t, pairWith);
    if ('reason' in r) {
      out.skipped.push(r);
      log(`${suite.suite}: ${c.name}: SKIPPED (${r.reason})`);
    } else {
      out.records.push(r);
      log(`${suite.suite}: ${c.name}: ${r.median_ms.toFixed(3)} ms, ${r.throughput.toFixed(2)} ${r.unit}`);
    }
  }
  return out;
}
