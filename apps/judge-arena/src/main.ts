// lwz-arena: evaluation CLI (WritingBench criteria scoring, pairwise arena with Elo, LongBench-Write).
// Subcommands live one per file in ./commands; only this file sets the exit status (through core's runCli).
import { Command } from 'commander';
import { runCli } from '@lwz/core';
import { register as registerWritingBench } from './commands/writingbench';
import { register as registerArena } from './commands/arena';
import { register as registerLongBench } from './commands/longbench-write';
import { register as registerEvalDefault } from './commands/eval-default';

const program = new Command('lwz-arena').description('LongWriter-Zero evaluation: WritingBench, pairwise arena (Elo), LongBench-Write');
registerWritingBench(program);
registerArena(program);
registerLongBench(program);
registerEvalDefault(program);

void runCli(() => program.parseAsync(process.argv));
