// `lwz-train train-rm [--preset NAME | --config FILE] [--out DIR] [--init CKPT] [--set key=value ...]`: the
// built-in reward model (Bradley-Terry on corpus preference pairs, rm/run.ts). Rerunning the same command
// resumes from the newest complete checkpoint. The Nx target `trainer:train-rm` runs the tiny preset after
// pretraining; GRPO's tiny preset scores quality with its checkpoint (the `builtin-rm` scorer).
import type { Command } from 'commander';
import { parseOverrides } from '@lwz/core';
import { RM_PRESETS, resolveRmConfig, type RmConfig } from '../rm/config';
import { runTrainRm, type RmSummary } from '../rm/run';

export interface TrainRmCliOptions {
  preset?: string;
  config?: string;
  out?: string;
  init?: string;
  set: string[];
}

export function resolve(o: TrainRmCliOptions): RmConfig {
  const overrides = parseOverrides(o.set);
  // '' too (an unset shell variable): the config check names it, instead of the preset's value running silently
  if (o.out !== undefined) overrides.out = o.out;
  if (o.init !== undefined) overrides.init = o.init;
  return resolveRmConfig({ preset: o.preset, config: o.config, overrides });
}

export async function run(o: TrainRmCliOptions): Promise<RmSummary> {
  const cfg = resolve(o);
  process.stderr.write(`resolved config:\n${JSON.stringify(cfg, null, 2)}\n`);
  return runTrainRm(cfg);
}

export function register(program: Command): void {
  program
    .command('train-rm')
    .description('train the built-in reward model (Bradley-Terry on corpus preference pairs); resumes from the last checkpoint in --out')
    .option('--preset <name>', `preset (${Object.keys(RM_PRESETS).join(', ')}; default: tiny)`)
    .option('--config <file>', 'a config file instead of a preset')
    .option('--out <dir>', 'run directory (overrides the config)')
    .option('--init <dir>', 'start checkpoint or run directory (overrides init)')
    .option('--set <key=value...>', 'config overrides, e.g. --set steps=100 lr=1e-4', [])
    .action(async (o: TrainRmCliOptions) => {
      const r = await run(o);
      console.error(`train-rm finished ${r.steps} steps in ${r.runDir}`);
    });
}
