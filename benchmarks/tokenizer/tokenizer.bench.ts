// Tokenizer suite (issue #3): encode throughput of our BPE vs @huggingface/tokenizers on the same 1 MB of
// English prose, for the real Qwen3 and Llama-3 tokenizer.json files, in one run. "warm" repeats the encode
// with each library's pre-token cache filled by the warmup call; "cold" clears that cache before every call
// (what a first encode of new text costs). Setup checks both libraries give identical ids before timing.
import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '@lwz/tokenizer';
import type { BenchSuite, TimedCase } from '../suite';
import { englishText, tokenizerFiles } from './inputs';

const BYTES = 1_000_000;
type Lib = 'ours' | 'hf';
type Cache = 'warm' | 'cold';

const loaded = new Map<string, { ours: Tokenizer; hf: HfTokenizer; text: string }>();

function load(name: 'qwen3' | 'llama3', bytes: number): { ours: Tokenizer; hf: HfTokenizer; text: string } {
  const hit = loaded.get(`${name}:${bytes}`);
  if (hit) return hit;
  const files = tokenizerFiles(name);
  const ours = Tokenizer.fromFile(files.json);
  const hf = new HfTokenizer(JSON.parse(readFileSync(files.json, 'utf8')), JSON.parse(readFileSync(files.config, 'utf8')));
  const text = englishText(bytes);
  const a = ours.encode(text);
  const b = hf.encode(text).ids;
  if (a.length !== b.length || a.some((id, i) => id !== b[i])) throw new Error(`${name}: ids differ from @huggingface/tokenizers`);
  const entry = { ours, hf, text };
  loaded.set(`${name}:${bytes}`, entry);
  return entry;
}

/** The HF BPE model's own cache reset (present in @huggingface/tokenizers 0.2's BPE model). */
function clearHfCache(hf: HfTokenizer): void {
  (hf.model as unknown as { clear_cache?: () => void }).clear_cache?.();
}

function encodeCase(name: 'qwen3' | 'llama3', lib: Lib, cache: Cache, bytes: number): TimedCase {
  return {
    name: `${name} encode ${bytes / 1e6}MB English ${lib === 'ours' ? '@lwz/tokenizer' : '@huggingface/tokenizers'} ${cache}`,
    params: { tokenizer: name, lib, cache, bytes },
    work: { amount: bytes, unit: 'B', formula: 'UTF-8 bytes of the text' },
    setup: () => {
      const { ours, hf, text } = load(name, bytes);
      if (lib === 'ours') {
        return { fn: () => (cache === 'cold' && ours.clearCache(), ours.encode(text)) };
      }
      return { fn: () => (cache === 'cold' && clearHfCache(hf), hf.encode(text).ids) };
    },
  };
}

const suite: BenchSuite = {
  suite: 'tokenizer',
  description: 'encode MB/s: @lwz/tokenizer vs @huggingface/tokenizers, 1 MB English, real Qwen3 / Llama-3 files',
  // smoke (CI: does the suite still run?) encodes 100 kB, with the same check that both libraries give the same ids
  cases: (ctx) =>
    (['qwen3', 'llama3'] as const).flatMap((name) =>
      (['warm', 'cold'] as const).flatMap((cache) =>
        (['ours', 'hf'] as const).map((lib) => encodeCase(name, lib, cache, ctx.smoke ? BYTES / 10 : BYTES)),
      ),
    ),
};

export default suite;
