// `lwz-train tokenize --tokenizer FILE (--text T | --text-file F) [--out F.json]`: prints or writes
// {ids, tokens}, encoded the way Hugging Face encodes by default for that tokenizer (its post-processor's
// special tokens included). FILE is a tokenizer.json or a directory holding one. Not batch tokenization.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError, readTextFile, writeJsonAtomic } from '@lwz/core';
import { Tokenizer } from '@lwz/tokenizer';

export interface TokenizeOptions {
  tokenizer: string;
  text?: string;
  textFile?: string;
  out?: string;
}

export interface TokenizeResult {
  ids: number[];
  tokens: string[];
}

export function resolveTokenizerFile(path: string): string {
  if (!existsSync(path)) throw new UserError(`--tokenizer ${path}: no such file or directory`);
  if (statSync(path).isDirectory()) {
    const inside = join(path, 'tokenizer.json');
    if (!existsSync(inside)) throw new UserError(`--tokenizer ${path}: the directory has no tokenizer.json`);
    return inside;
  }
  return path;
}

export function run(opts: TokenizeOptions): TokenizeResult {
  if ((opts.text === undefined) === (opts.textFile === undefined)) throw new UserError('give exactly one of --text or --text-file');
  // '' (an unset shell variable) is not "no --out": printing to stdout then would hide the mistake
  if (opts.out === '') throw new UserError('--out is empty: give the JSON file to write, or leave --out out to print to stdout');
  let text = opts.text;
  if (opts.textFile !== undefined) {
    text = readTextFile(opts.textFile, { label: `--text-file ${opts.textFile}` });
  }
  const tokenizer = Tokenizer.fromFile(resolveTokenizerFile(opts.tokenizer));
  const ids = tokenizer.encode(text as string);
  const result = { ids, tokens: tokenizer.tokens(ids) };
  if (opts.out !== undefined) writeJsonAtomic(opts.out, result);
  return result;
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .description('encode text with a Hugging Face tokenizer.json: {ids, tokens}')
    .requiredOption('--tokenizer <file>', 'tokenizer.json (or a directory containing it)')
    .option('--text <text>', 'text to encode')
    .option('--text-file <file>', 'UTF-8 file to encode')
    .option('--out <file>', 'write the JSON here instead of stdout')
    .action((o: TokenizeOptions) => {
      const r = run(o);
      if (o.out === undefined) process.stdout.write(JSON.stringify(r) + '\n');
    });
}
