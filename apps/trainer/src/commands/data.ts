// `lwz-train data corpus|prepare|prompts`: the data pipeline's commands, one file each (data-*.ts); the
// tokenizer step is `lwz-train train-tokenizer --corpus <corpus dir>`. The Nx targets data:corpus,
// data:tokenizer, data:prepare and data:prompts run these.
import type { Command } from 'commander';
import { register as registerCorpus } from './data-corpus';
import { register as registerPrepare } from './data-prepare';
import { register as registerPrompts } from './data-prompts';

export function register(program: Command): void {
  const data = program
    .command('data')
    .description('data pipeline: corpus -> (train-tokenizer) -> prepare shards; prompts for RL')
    .showHelpAfterError();
  registerCorpus(data);
  registerPrepare(data);
  registerPrompts(data);
}
