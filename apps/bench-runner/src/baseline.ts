// Side-by-side baseline: compile the suite's C harness before anything is timed (so a missing library fails
// fast), run our cases, then run the harness on the same shapes with the same thread count and attach
// ratio = baseline_ms / ours_ms to each matching record. In smoke mode (CI) a missing system library skips
// the baseline with a note and our cases still run; a harness that fails to compile or run still fails.
import { isMeasuredCase, type BenchSuite, type CHarnessBaseline, type SuiteContext } from './suite-format';
import { MissingLibraryError, compileHarness, runHarness, type CompiledHarness } from './c-harness';
import type { SuiteRun, TimingSettings } from './measure';
import { baselineRatio } from './records';

export async function attachBaseline(
  suite: BenchSuite,
  name: string | undefined,
  baseline: CHarnessBaseline | undefined,
  ctx: SuiteContext,
  timing: TimingSettings,
  notes: string[],
  runOurs: () => Promise<SuiteRun>,
): Promise<SuiteRun> {
  if (!name || !baseline) return runOurs();
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
