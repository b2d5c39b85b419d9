// `lwz-train export-recipe --engine verl --preset NAME [--prompts F] [--set key=value ...] --out DIR`: the
// GRPO preset as a verl recipe (dataset rows, lwz_reward.py, run_grpo.sh, README). The numbers come from the
// same resolved GRPO config `lwz-train train` uses; the prompts from --prompts or the generator.
import type { Command } from 'commander';
import { UserError, parseOverrides } from '@lwz/core';
import { presetNames, resolveGrpoConfig } from '../grpo/config';
import { loadPrompts } from '../grpo/prompts';
import { writeVerlRecipe, type VerlRecipe } from '../recipe/verl';

export interface ExportRecipeOptions {
  engine: string;
  preset?: string;
  config?: string;
  prompts?: string;
  out: string;
  set?: string[];
}

export function run(o: ExportRecipeOptions): VerlRecipe {
  if (o.engine !== 'verl') throw new UserError(`--engine ${o.engine}: only verl is supported`);
  const overrides = parseOverrides(o.set ?? []);
  // '' too (an unset shell variable): the config check names it, instead of generated prompts exported silently
  if (o.prompts !== undefined) overrides.prompts = { ...((overrides.prompts as object) ?? {}), file: o.prompts };
  const cfg = resolveGrpoConfig({ preset: o.preset, config: o.config, overrides });
  const prompts = loadPrompts(cfg);
  // the files name the flag that made them: a --config file given as `--preset FILE` would be refused
  const source = o.config === undefined ? `--preset ${o.preset ?? 'tiny'}` : `--config ${o.config}`;
  return writeVerlRecipe(cfg, source, prompts.train, prompts.heldout, o.out);
}

export function register(program: Command): void {
  program
    .command('export-recipe')
    .description('write a GRPO preset as a recipe for another RL engine (verl): dataset rows, reward function, launch script, README')
    .requiredOption('--engine <name>', 'target engine: verl')
    .option('--preset <name>', `GRPO preset: ${presetNames().join(', ')} (default: tiny)`)
    .option('--config <file>', 'a GRPO config file instead of a preset')
    .option('--prompts <file>', 'training prompts (any format lwz-train train takes); default: generated')
    .option('--set <key=value...>', 'GRPO config overrides, e.g. --set rollout.n=16', [])
    .requiredOption('--out <dir>', 'directory to write')
    .action((o: ExportRecipeOptions) => {
      const r = run(o);
      console.error(`export-recipe: ${r.files.join(', ')} (${r.rows} training rows) in ${r.dir}`);
    });
}
