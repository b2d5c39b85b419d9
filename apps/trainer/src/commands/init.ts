// `lwz-train init --preset NAME --out DIR`: a randomly initialised checkpoint in Hugging Face layout
// (config.json + model.safetensors + generation_config.json, plus the tokenizer files when --tokenizer is
// given). Not training: the weights are normal(0, initializer_range) noise.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Rng, UserError } from '@lwz/core';
import { initModel, MODEL_PRESETS, modelPreset, parameterCount, saveModel } from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { resolveTokenizerFile } from './tokenize';

export interface InitOptions {
  preset: string;
  out: string;
  seed: number;
  dtype: 'f32' | 'bf16';
  tokenizer?: string;
}

export function run(opts: InitOptions): { params: number; out: string } {
  const config = modelPreset(opts.preset);
  // the file given is the one copied (saved as tokenizer.json), with the tokenizer_config.json beside it
  const tokenizerFile = opts.tokenizer === undefined ? undefined : resolveTokenizerFile(opts.tokenizer);
  if (tokenizerFile) {
    // the preset's embedding must hold every id the copied tokenizer gives (a larger, padded one is fine)
    const ids = Tokenizer.fromFile(tokenizerFile).vocabSize;
    if (ids > config.vocabSize)
      throw new UserError(
        `--tokenizer ${opts.tokenizer}: ${ids} token ids, more than preset ${opts.preset}'s vocab_size ${config.vocabSize}, so the model could not embed every id it gives; ` +
          'pick a preset with a vocabulary at least that large',
      );
  }
  refuseTokenizerFolder(opts.out);
  const model = initModel(config, new Rng(opts.seed));
  saveModel(model, opts.out, { dtype: opts.dtype === 'bf16' ? 'BF16' : 'F32', tokenizer: tokenizerFile });
  model.dispose();
  return { params: parameterCount(config), out: opts.out };
}

/**
 * A folder `train-tokenizer` wrote (a tokenizer.json and no config.json) is not a checkpoint to replace: saveModel
 * would take its files for a checkpoint's copied tokenizer and delete a trained tokenizer with the folder.
 */
function refuseTokenizerFolder(out: string): void {
  if (!existsSync(join(out, 'tokenizer.json')) || existsSync(join(out, 'config.json'))) return;
  throw new UserError(
    `--out ${out} holds a tokenizer (tokenizer.json, no checkpoint's config.json), which init would delete; ` +
      `to start a checkpoint with it, pass it as --tokenizer ${out} and choose another --out`,
  );
}

function parseSeed(v: string): number {
  const n = Number(v);
  // decimal digits only: Number() takes "" and " " as 0 and "0x10" as 16
  if (!/^\s*[+-]?\d+\s*$/.test(v) || !Number.isSafeInteger(n)) throw new UserError(`--seed must be an integer, got "${v}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('write a randomly initialised checkpoint (Hugging Face layout)')
    .requiredOption('--preset <name>', `model preset: ${Object.keys(MODEL_PRESETS).join(', ')}`)
    .requiredOption(
      '--out <dir>',
      'checkpoint directory to create (replaced atomically; one holding other files than a checkpoint is refused)',
    )
    .option('--seed <n>', 'random seed', parseSeed, 0)
    .option('--dtype <dtype>', 'weights dtype on disk: f32 or bf16', 'f32')
    .option('--tokenizer <path>', 'tokenizer.json (or its directory) to copy into the checkpoint')
    .action((o: { preset: string; out: string; seed: number; dtype: string; tokenizer?: string }) => {
      if (o.dtype !== 'f32' && o.dtype !== 'bf16') throw new UserError(`--dtype must be f32 or bf16, got "${o.dtype}"`);
      const r = run({ ...o, dtype: o.dtype });
      console.error(`wrote ${r.out}: preset ${o.preset}, ${(r.params / 1e6).toFixed(2)} M parameters`);
    });
}
