// lwz-train: the trainer CLI. Subcommands live one per file in ./commands; only this file calls process.exit.
import { Command } from 'commander';
import { isUserError } from '@lwz/core';
import { register as registerInit } from './commands/init';
import { register as registerScore } from './commands/score';
import { register as registerPretrain } from './commands/pretrain';
import { register as registerTokenize } from './commands/tokenize';
import { register as registerTrainTokenizer } from './commands/train-tokenizer';
import { register as registerExport } from './commands/export';

const program = new Command('lwz-train').description('LongWriter-Zero trainer: tokenizer, model, pretraining, RL');
registerInit(program);
registerScore(program);
registerPretrain(program);
registerTokenize(program);
registerTrainTokenizer(program);
registerExport(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isUserError(e)) {
    console.error(`error: ${e.message}`);
  } else {
    console.error(e);
  }
  process.exit(1);
});
