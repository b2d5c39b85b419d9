// `lwz-bench run --suite NAME`: load one suite, time it on a device, optionally run a C baseline side by
// side, print the Markdown table and write the JSON records atomically. Not a statistics package: one
// median per case, ratios against a baseline measured in the same run.
import { availableParallelism, cpus } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { UserError, checkFileOutput, ensureDir, parseConfig, pathFlag, writeFileAtomic, writeJsonAtomic, z } from '@lwz/core';
import { DEVICES, availableDevices, backendStatus, defaultDevice, getBackend } from '@lwz/kernels';
import type { BenchSuite, Device, SuiteContext } from '../suite-format';
import { defaultBenchmarksRoot, loadSuite } from '../discover';
import { runSuite, type SuiteRun } from '../measure';
import { markdownTable } from '../records';
import { attachBaseline } from '../baseline';

const OptionsSchema = z.object({
  suite: z.string().min(1),
  smoke: z.boolean().default(false),
  json: pathFlag().optional(),
  markdown: pathFlag().optional(),
  device: z.enum(DEVICES).optional(),
  threads: z.coerce.number().int().positive().optional(),
  baseline: z.string().optional(),
  iterations: z.coerce.number().int().positive().default(5),
  minTimeMs: z.coerce.number().nonnegative().default(500),
  filter: z.string().optional(),
  dir: pathFlag().optional(),
});
export type RunOptions = z.input<typeof OptionsSchema>;

export interface RunResult extends SuiteRun {
  markdown: string;
}

function resolveDevice(wanted: Device | undefined): { device: Device; description: string; synchronize: () => void } {
  // backends start here, on first use, after run() has set LWZ_THREADS (the native addon reads it when it loads)
  const device = wanted ?? defaultDevice();
  const status = backendStatus().find((s) => s.device === device);
  if (!status?.available) {
    const valid = availableDevices().join(', ');
    throw new UserError(`--device ${device} is unavailable here (${status?.detail ?? 'unknown'}); available: ${valid}`);
  }
  const backend = getBackend(device);
  return { device, description: status.detail, synchronize: () => backend.synchronize() };
}

function header(suite: BenchSuite, ctx: SuiteContext, backend: string, o: z.output<typeof OptionsSchema>): string {
  const mode = ctx.smoke ? 'smoke (1 iteration, no warmup)' : `median of >= ${o.iterations} iterations / ${o.minTimeMs} ms after 1 warmup`;
  return [
    `## lwz-bench ${suite.suite}: ${suite.description}`,
    '',
    `- device: ${backend}; threads: ${ctx.threads}; ${mode}`,
    `- machine: ${cpus()[0]?.model ?? 'unknown cpu'} (${availableParallelism()} cores), node ${process.version}, ` +
      new Date().toISOString(),
  ].join('\n');
}

export async function run(raw: RunOptions, log: (line: string) => void = (l) => console.error(l)): Promise<RunResult> {
  const o = parseConfig(OptionsSchema, raw, 'lwz-bench run options', { flags: true });
  const smoke = o.smoke || process.env.BENCH_SMOKE === '1';
  if (o.threads) process.env.LWZ_THREADS = String(o.threads);
  // "ours" means our kernels unless told: under the cpu backend's default (auto) a GEMM shape the calibration routes
  // to an installed OpenBLAS would time OpenBLAS against itself in an `--baseline openblas` run (a ratio of ~1.0
  // hiding a loss); LWZ_BLAS=auto (or a path) set by the caller is kept, and the header's device line names it
  process.env.LWZ_BLAS ||= 'own';
  const threads = o.threads ?? (Number(process.env.LWZ_THREADS) || availableParallelism());
  let filter: RegExp | undefined;
  try {
    filter = o.filter ? new RegExp(o.filter) : undefined;
  } catch (e) {
    throw new UserError(`--filter ${o.filter} is not a regular expression: ${(e as Error).message}`);
  }
  // the output paths before the suite runs (minutes), not after: a directory given for a file, or a file in the way of
  // its folder, is named now (the folder is made now)
  for (const [flag, path] of [
    ['--json', o.json],
    ['--markdown', o.markdown],
  ] as const) {
    if (!path) continue;
    checkFileOutput(path, { flag, example: 'records.json' });
    ensureDir(dirname(path), path);
  }
  const suite = await loadSuite(o.dir ?? defaultBenchmarksRoot(), o.suite);
  const baseline = o.baseline ? suite.baselines?.[o.baseline] : undefined;
  if (o.baseline && !baseline) {
    const valid = Object.keys(suite.baselines ?? {}).join(', ') || 'none';
    throw new UserError(`--baseline ${o.baseline}: suite ${suite.suite} has no such baseline; valid: ${valid}`);
  }
  const { device, description, synchronize } = resolveDevice(o.device);
  const ctx: SuiteContext = { device, threads, smoke };
  const timing = { iterations: o.iterations, minTimeMs: o.minTimeMs, filter, synchronize };
  const notes: string[] = [];
  const result = await attachBaseline(suite, o.baseline, baseline, ctx, timing, notes, (after) => runSuite(suite, ctx, timing, log, after));
  const markdown = [
    header(suite, ctx, description, o),
    ...notes.map((n) => `- ${n}`),
    '',
    markdownTable(result.records, result.skipped),
    '',
    ...result.records.filter((r) => r.details).map((r) => `### ${r.name}\n\n${r.details}\n`),
  ].join('\n');
  if (o.json) writeJsonAtomic(o.json, result.records);
  if (o.markdown) writeFileAtomic(o.markdown, markdown);
  return { ...result, markdown };
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one benchmark suite from benchmarks/<lib>/<suite>.bench.ts; Markdown table on stdout')
    .requiredOption('--suite <name>', 'suite to run (its file name without .bench.ts), e.g. kernels')
    .option('--smoke', 'one iteration per case, no warmup, same shapes (also BENCH_SMOKE=1)')
    .option('--json <file>', 'write the JSON records here (atomically)')
    .option('--markdown <file>', 'also write the Markdown table here (atomically)')
    .option('--device <device>', `${DEVICES.join(' | ')} (default: the kernels default device)`)
    .option('--threads <n>', 'threads for the kernels (sets LWZ_THREADS) and for the baseline')
    .option('--baseline <name>', 'also run a baseline side by side, e.g. openblas, and print ratios')
    .option('--iterations <n>', 'minimum timed iterations per case', '5')
    .option('--min-time-ms <ms>', 'keep sampling each case for at least this long', '500')
    .option('--filter <regex>', 'only the cases whose name matches')
    .option('--dir <folder>', 'benchmarks folder (default: the repository benchmarks/)')
    .action(async (opts: RunOptions) => {
      const { markdown } = await run(opts);
      process.stdout.write(markdown);
    });
}
