// Side-by-side baseline. A C harness: compiled before anything is timed (so a missing library fails fast), run
// after our cases on the same shapes with the same thread count. An in-process baseline: timed right after
// each matching case. Either way ratio = baseline_ms / ours_ms is attached to each matching record. In smoke
// mode (CI) a missing system library skips a C baseline with a note and our cases still run; a harness that
// fails to compile or run still fails.
import {
  isMeasuredCase,
  isSkip,
  type Baseline,
  type BenchCase,
  type BenchSuite,
  type CHarnessBaseline,
  type InProcessBaseline,
  type SuiteContext,
} from './suite-format';
import { MissingLibraryError, compileHarness, runHarness, type CompiledHarness } from './c-harness';
import { timeFunction, type SuiteRun, type TimingSettings } from './measure';
import { baselineRatio, type BenchRecord } from './records';

type RunOurs = (afterCase?: (c: BenchCase, r: BenchRecord) => Promise<void>) => Promise<SuiteRun>;

async function attachInProcess(
  name: string,
  baseline: InProcessBaseline,
  ctx: SuiteContext,
  timing: TimingSettings,
  notes: string[],
  runOurs: RunOurs,
): Promise<SuiteRun> {
  const skipped: string[] = [];
  const result = await runOurs(async (c, r) => {
    const args = !isMeasuredCase(c) ? c.baseline?.[name] : undefined;
    if (!args) return;
    const prepared = baseline.prepare(args, ctx);
    if (isSkip(prepared)) {
      skipped.push(`${c.name}: ${prepared.skip}`);
      return;
    }
    try {
      const { medianMs } = await timeFunction(`${name} for ${c.name}`, prepared.fn, ctx, timing);
      r.baseline = { name, median_ms: medianMs, ratio: baselineRatio(medianMs, r.median_ms) };
    } finally {
      prepared.dispose?.();
    }
  });
  notes.push(`baseline ${name}: ${baseline.description}, timed right after each case; ratio = ${name} ms / ours ms (> 1: ours is faster)`);
  for (const s of skipped) notes.push(`baseline ${name} skipped for ${s}`);
  return result;
}

export async function attachBaseline(
  suite: BenchSuite,
  name: string | undefined,
  baseline: Baseline | undefined,
  ctx: SuiteContext,
  timing: TimingSettings,
  notes: string[],
  runOurs: RunOurs,
): Promise<SuiteRun> {
  if (!name || !baseline) return runOurs();
  if (baseline.kind === 'in-process') return attachInProcess(name, baseline, ctx, timing, notes, runOurs);
  return attachCHarness(suite, name, baseline, ctx, timing, notes, runOurs);
}

async function attachCHarness(
  suite: BenchSuite,
  name: string,
  baseline: CHarnessBaseline,
  ctx: SuiteContext,
  timing: TimingSettings,
  notes: string[],
  runOurs: RunOurs,
): Promise<SuiteRun> {
  let harness: CompiledHarness;
  try {
    harness = compileHarness(name, baseline);
  } catch (e) {
    if (!(ctx.smoke && e instanceof MissingLibraryError)) throw e;
    notes.push(`baseline ${name} skipped (smoke mode): ${e.message}`);
    return runOurs();
  }
  try {
    const result = await runOurs();
    const args = new Map<string, string[]>();
    for (const c of suite.cases(ctx)) {
      if (!isMeasuredCase(c) && c.baseline?.[name]) args.set(c.name, c.baseline[name]);
    }
    const matched = result.records.filter((r) => args.has(r.name));
    const specs = matched.map((r) => (args.get(r.name) ?? []).join(':'));
    const iterations = ctx.smoke ? 1 : timing.iterations;
    const out = runHarness(harness, baseline, specs, { iterations, warmup: ctx.smoke ? 0 : 1, threads: ctx.threads });
    matched.forEach((r, i) => {
      const ms = out.medians[i];
      r.baseline = { name, median_ms: ms, ratio: baselineRatio(ms, r.median_ms) };
    });
    const threadsNote = baseline.threadsEnv ? `, ${baseline.threadsEnv}=${ctx.threads}` : '';
    notes.push(
      `baseline ${name}: ${out.info ?? 'no version info'}${threadsNote}; median of ${iterations} iterations; ` +
        `ratio = ${name} ms / ours ms (> 1: ours is faster)`,
    );
    notes.push(`baseline ${name} compiled with: ${harness.command}`);
    return result;
  } finally {
    harness.cleanup();
  }
}
