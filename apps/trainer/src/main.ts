// lwz-train: the trainer CLI. Subcommands live one per file in ./commands; only this file sets the exit status (through core's runCli).
import { Command } from 'commander';
import { runCli } from '@lwz/core';
import { register as registerInit } from './commands/init';
import { register as registerScore } from './commands/score';
import { register as registerPretrain } from './commands/pretrain';
import { register as registerTokenize } from './commands/tokenize';
import { register as registerTrainTokenizer } from './commands/train-tokenizer';
import { register as registerExport } from './commands/export';
import { register as registerSample } from './commands/sample';
import { register as registerServe } from './commands/serve';
import { register as registerData } from './commands/data';
import { register as registerScoreRewards } from './commands/score-rewards';
import { register as registerTrain } from './commands/train';
import { register as registerServeRewards } from './commands/serve-rewards';
import { register as registerExportRecipe } from './commands/export-recipe';

const program = new Command('lwz-train').description('LongWriter-Zero trainer: data, tokenizer, model, pretraining, RL');
registerInit(program);
registerScore(program);
registerPretrain(program);
registerTokenize(program);
registerTrainTokenizer(program);
registerExport(program);
registerSample(program);
registerServe(program);
registerData(program);
registerScoreRewards(program);
registerTrain(program);
registerServeRewards(program);
registerExportRecipe(program);

void runCli(() => program.parseAsync(process.argv));
