// lwz-bench: the benchmark CLI (suites in benchmarks/<lib>/). Subcommands live one per file in ./commands;
// only this file sets the exit status (through core's runCli).
import { Command } from 'commander';
import { runCli } from '@lwz/core';
import { registerRun } from './commands/run';
import { registerList } from './commands/list';
import { registerSmoke } from './commands/smoke';

const program = new Command('lwz-bench').description('LongWriter-Zero benchmarks: tinybench suites with side-by-side baselines');
registerRun(program);
registerList(program);
registerSmoke(program);

void runCli(() => program.parseAsync(process.argv));
