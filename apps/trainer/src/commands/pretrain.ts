// `lwz-train pretrain [--preset NAME | --config FILE] [--out DIR] [--set key=value ...]`: (continual)
// pretraining on packed shards. Rerunning the same command resumes from the newest complete checkpoint.
// The Nx target `trainer:pretrain` runs it on the embedded default after data:prepare and data:tokenizer.
import type { Command } from 'commander';
import { parseOverrides } from '@lwz/core';
import { resolvePretrainConfig, type PretrainConfig } from '../pretrain/config';
import { runPretrain, type PretrainResult } from '../pretrain/run';

export interface PretrainCliOptions {
  preset?: string;
  config?: string;
  out?: string;
  init?: string;
  set: string[];
}

export function resolve(o: PretrainCliOptions): PretrainConfig {
  const overrides = parseOverrides(o.set);
  // '' too (an unset shell variable): the config check names it, instead of the preset's value running silently
  if (o.out !== undefined) overrides.out = o.out;
  if (o.init !== undefined) overrides.model = { ...((overrides.model as object) ?? {}), init: o.init };
  return resolvePretrainConfig({ preset: o.preset, config: o.config, overrides });
}

export function run(o: PretrainCliOptions): PretrainResult {
  const cfg = resolve(o);
  process.stderr.write(`resolved config:\n${JSON.stringify(cfg, null, 2)}\n`);
  return runPretrain(cfg);
}

export function register(program: Command): void {
  program
    .command('pretrain')
    .description('(continual) pretraining with next-token loss; resumes from the last checkpoint in --out')
    .option('--preset <name>', 'preset from apps/trainer/presets/pretrain-<name>.json (default: tiny)')
    .option('--config <file>', 'a config file instead of a preset')
    .option('--out <dir>', 'run directory (overrides the config)')
    .option('--init <dir>', 'checkpoint to continue pretraining from (overrides model.init)')
    .option('--set <key=value...>', 'config overrides, e.g. --set steps=100 lr=1e-3', [])
    .action((o: PretrainCliOptions) => {
      const r = run(o);
      console.error(`pretrain finished ${r.steps} steps in ${r.runDir}`);
    });
}
