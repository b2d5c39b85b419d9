// lwz-bench: the benchmark CLI (suites in benchmarks/<lib>/). Subcommands live one per file in ./commands;
// only this file calls process.exit.
import { Command } from 'commander';
import { isUserError } from '@lwz/core';
import { registerRun } from './commands/run';
import { registerList } from './commands/list';

const program = new Command('lwz-bench').description(
  'LongWriter-Zero benchmarks: tinybench suites with side-by-side baselines',
);
registerRun(program);
registerList(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isUserError(e)) {
    console.error(`error: ${e.message}`);
  } else {
    console.error(e);
  }
  process.exit(1);
});
