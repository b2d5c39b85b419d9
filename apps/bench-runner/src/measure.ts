// Running one suite's cases: untimed setup, then tinybench times the case's function (median of the
// samples), or a measured case reports its own numbers. Produces records and visible skips; baselines and
// output files are the caller's business (commands/run.ts).
import { Bench } from 'tinybench';
import { isMeasuredCase, isSkip, type BenchCase, type BenchSuite, type SuiteContext, type Work } from './suite-format';
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
  bench.add(name, timed, { async: false }); // known sync: tinybench would otherwise call fn once more to find out
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`benchmark ${name} ended in state ${result.state}`);
  return { medianMs: result.latency.p50, samples: result.latency.samplesCount };
}

/** Notes for a case's second work view: "8.1 GB/s over 67 MB (4*(M*K + K*N + M*N))". */
function alsoThroughput(work: Work, medianMs: number): Record<string, string> {
  const { throughput, unit } = throughputOf(work, medianMs);
  return { also: `${formatNumber(throughput)} ${unit} over ${formatWork(work)}` };
}

async function runCase(suite: string, c: BenchCase, ctx: SuiteContext, t: TimingSettings): Promise<BenchRecord | SkippedCase> {
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
  try {
    const { medianMs, samples } = await timeFunction(c.name, prepared.fn, ctx, t);
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
    prepared.dispose?.();
  }
}

/**
 * Run every (filtered) case of `suite` in order; `log` gets one progress line per case. `afterCase` runs right
 * after each measured case (an in-process baseline timed under the same conditions).
 */
export async function runSuite(
  suite: BenchSuite,
  ctx: SuiteContext,
  t: TimingSettings,
  log: (line: string) => void,
  afterCase?: (c: BenchCase, r: BenchRecord) => Promise<void>,
): Promise<SuiteRun> {
  const out: SuiteRun = { records: [], skipped: [] };
  const cases = suite.cases(ctx).filter((c) => !t.filter || t.filter.test(c.name));
  for (const c of cases) {
    const r = await runCase(suite.suite, c, ctx, t);
    if ('reason' in r) {
      out.skipped.push(r);
      log(`${suite.suite}: ${c.name}: SKIPPED (${r.reason})`);
    } else {
      out.records.push(r);
      log(`${suite.suite}: ${c.name}: ${r.median_ms.toFixed(3)} ms, ${r.throughput.toFixed(2)} ${r.unit}`);
      await afterCase?.(c, r);
    }
  }
  return out;
}
