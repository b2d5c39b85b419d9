// lwz-train: the trainer CLI. Subcommands live one per file in ./commands; only this file calls process.exit.
import { Command } from 'commander';
import { isUserError } from '@lwz/core';

const program = new Command('lwz-train').description('LongWriter-Zero trainer: tokenizer, model, pretraining, RL');

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isUserError(e)) {
    console.error(`error: ${e.message}`);
  } else {
    console.error(e);
  }
  process.exit(1);
});
