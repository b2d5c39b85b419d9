// `lwz-bench list`: the suites discovered under benchmarks/ (file names only: nothing is imported or run).
import type { Command } from 'commander';
import { defaultBenchmarksRoot, listSuites } from '../discover';

export function run(opts: { dir?: string }): string {
  const suites = listSuites(opts.dir ?? defaultBenchmarksRoot());
  return suites.map((s) => `${s.suite}\t${s.lib}/${s.suite}.bench.ts`).join('\n') + '\n';
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the benchmark suites found under benchmarks/<lib>/<suite>.bench.ts')
    .option('--dir <folder>', 'benchmarks folder (default: the repository benchmarks/)')
    .action((opts: { dir?: string }) => {
      process.stdout.write(run(opts));
    });
}
