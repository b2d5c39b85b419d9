// `lwz-train score --checkpoint DIR (--text-file F | --ids-file F.json) [--out F.json] [--runtime k=v ...]`:
// writes {ids, logprobs} where logprobs[t] = log p(ids[t+1] | ids[..t]) (T-1 values). Text is encoded with
// the checkpoint's tokenizer.json; --ids-file needs no tokenizer. `--runtime logitBudget=N` sets the model's
// runtime knobs (libs/model runtime.ts). Not batched scoring of many texts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError, readTextFile, parseOverrides, writeJsonAtomic } from '@lwz/core';
import { defaultDevice } from '@lwz/kernels';
import { loadModel, parseModelRuntime, readModelConfig } from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { resolveCheckpoint } from '../checkpoints';

export interface ScoreOptions {
  checkpoint: string;
  textFile?: string;
  idsFile?: string;
  out?: string;
  /** model runtime knobs as key=value pairs, e.g. ['logitBudget=1048576'] */
  runtime?: string[];
}

export interface ScoreResult {
  ids: number[];
  logprobs: number[];
}

const readText = (path: string): string => readTextFile(path, { label: `--text-file ${path}` });

function readIds(path: string): number[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UserError(`--ids-file ${path}: cannot read JSON (${(e as Error).message})`);
  }
  const ids = Array.isArray(json) ? json : (json as { ids?: unknown } | null)?.ids;
  if (!Array.isArray(ids) || !ids.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new UserError(`--ids-file ${path}: expected a JSON array of token ids or {"ids": [...]} with non-negative integers`);
  }
  return ids as number[];
}

export function run(input: ScoreOptions): ScoreResult {
  // '' (an unset shell variable) is not "no --out": printing to stdout then would hide the mistake
  if (input.out === '') throw new UserError('--out is empty: give the JSON file to write, or leave --out out to print to stdout');
  if ((input.textFile === undefined) === (input.idsFile === undefined))
    throw new UserError('give exactly one of --text-file or --ids-file');
  const opts = { ...input, checkpoint: resolveCheckpoint(input.checkpoint, '--checkpoint') }; // a run directory: its newest checkpoint
  const runtime = parseModelRuntime(parseOverrides(opts.runtime ?? []), '--runtime');
  let ids: number[];
  let source: string; // where the ids came from, for the errors below
  if (opts.textFile !== undefined) {
    const tokPath = join(opts.checkpoint, 'tokenizer.json');
    if (!existsSync(tokPath)) throw new UserError(`${opts.checkpoint} has no tokenizer.json; encode the text yourself and pass --ids-file`);
    ids = Tokenizer.fromFile(tokPath).encode(readText(opts.textFile));
    source = `--text-file ${opts.textFile} (encoded with ${tokPath})`;
  } else {
    ids = readIds(opts.idsFile as string);
    source = `--ids-file ${opts.idsFile as string}`;
  }
  // checked against config.json before the weights load: a 0.5B checkpoint would read 2 GB only to refuse the input
  const { vocabSize, maxPositionEmbeddings } = readModelConfig(opts.checkpoint);
  const bad = ids.findIndex((id) => id >= vocabSize);
  if (bad >= 0)
    throw new UserError(
      `${source}: token id ${ids[bad]} at position ${bad} is outside the model's vocabulary (vocab_size ${vocabSize} in ${join(opts.checkpoint, 'config.json')}); give the ids the checkpoint's own tokenizer makes`,
    );
  if (ids.length > maxPositionEmbeddings) {
    throw new UserError(
      `${source}: ${ids.length} tokens exceed the model's context (max_position_embeddings ${maxPositionEmbeddings}); shorten the input`,
    );
  }
  const model = loadModel(opts.checkpoint, defaultDevice(), runtime);
  let logprobs: number[];
  try {
    logprobs = model.sequenceLogprobs(ids);
  } finally {
    model.dispose();
  }
  const result = { ids, logprobs };
  if (opts.out !== undefined) writeJsonAtomic(opts.out, result);
  return result;
}

export function register(program: Command): void {
  program
    .command('score')
    .description('log-probability of each token given its prefix: {ids, logprobs} (T-1 values)')
    .requiredOption('--checkpoint <dir>', 'checkpoint directory (Hugging Face layout), or a run directory (its newest checkpoint)')
    .option('--text-file <file>', 'text to score (encoded with the checkpoint tokenizer.json)')
    .option('--ids-file <file>', 'JSON array of token ids (or {"ids": [...]}) to score')
    .option('--out <file>', 'write the JSON here instead of stdout')
    .option('--runtime <key=value...>', 'model runtime knobs, e.g. --runtime logitBudget=1048576 (libs/model runtime.ts)', [])
    .action((o: ScoreOptions) => {
      const r = run(o);
      if (o.out === undefined) process.stdout.write(JSON.stringify(r) + '\n');
    });
}
