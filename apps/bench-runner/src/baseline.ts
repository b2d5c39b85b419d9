// Side-by-side baseline. A C harness: compiled before anything is timed (so a missing library fails fast), run
// after our cases on the same shapes with the same thread count; ratio = baseline_ms / ours_ms. An in-process
// baseline: timed alternately with each matching case, call by call (measure.ts timePaired); ratio = the median
// of the pairs' baseline_ms / ours_ms. Either way the ratio is attached to each matching record. In smoke mode
// (CI) a missing system library skips a C baseline with a note and our cases still run; a harness that fails to
// compile or run still fails.
import { readFileSync } from 'node:fs';
import {
  isMeasuredCase,
  isSkip,
  type Baseline,
  type BenchSuite,
  type CHarnessBaseline,
  type InProcessBaseline,
  type SuiteContext,
} from './suite-format';
import { MissingLibraryError, compileHarness, runHarness, type CompiledHarness } from './c-harness';
import { type PairWith, type SuiteRun, type TimingSettings } from './measure';
import { baselineRatio } from './records';

type RunOurs = (pairWith?: PairWith) => Promise<SuiteRun>;

async function attachInProcess(
  name: string,
  baseline: InProcessBaseline,
  ctx: SuiteContext,
  notes: string[],
  runOurs: RunOurs,
): Promise<SuiteRun> {
  const skipped: string[] = [];
  const result = await runOurs((c) => {
    const args = c.baseline?.[name];
    if (!args) return undefined;
    const prepared = baseline.prepare(args, ctx);
    if (isSkip(prepared)) {
      skipped.push(`${c.name}: ${prepared.skip}`);
      return undefined;
    }
    return { name, prepared };
  });
  notes.push(
    `baseline ${name}: ${baseline.description}, timed alternately with each case, call by call; ratio = median over the ` +
      `pairs of ${name} ms / ours ms (> 1: ours is faster)`,
  );
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
  if (baseline.kind === 'in-process') return attachInProcess(name, baseline, ctx, notes, runOurs);
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
    const core = avx2CoreOnAvx512(out.info);
    if (core)
      notes.push(
        `warning: OpenBLAS runs its ${core} (AVX2) kernels on this AVX-512 CPU (it does not know the CPU): against our AVX-512 path ` +
          'that is not like for like; OPENBLAS_CORETYPE=SkylakeX gives its AVX-512 kernels (benchmarks/README.md, "which kernels OpenBLAS runs here")',
      );
    notes.push(`baseline ${name} compiled with: ${harness.command}`);
    return result;
  } finally {
    harness.cleanup();
  }
}

/**
 * The AVX2 core an OpenBLAS build reports (its `openblas_get_config()` line) when this CPU has AVX-512, else null:
 * OpenBLAS 0.3.21 falls back to Haswell on CPUs it does not know (Zen 5), unless OPENBLAS_CORETYPE names one.
 */
export function avx2CoreOnAvx512(info: string | null | undefined, cpuFlags = cpuFlagsOf()): string | null {
  const core = /\b(Haswell|Zen|SandyBridge|Sandybridge)\b/.exec(info ?? '')?.[1];
  return core && cpuFlags.has('avx512f') ? core : null;
}

function cpuFlagsOf(): Set<string> {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
    return new Set(flags.trim().split(/\s+/));
  } catch {
    return new Set();
  }
}
