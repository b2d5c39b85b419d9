// What the GGUF header says about the tokenizer follows its tokenizer.json: llama.cpp's pre-tokenizer name for the
// split regex (checked on the real Qwen3 and Llama-3 files), a BOS when the post-processor adds one, and a refusal
// for what llama.cpp would read differently (another regex, a Lowercase normalizer).
import { readFileSync } from 'node:fs';
import { isUserError } from '@lwz/core';
import { realTokenizerFile } from '@lwz/tokenizer/testing';
import { ggufTokenizerKind } from './gguf-tokenizer';

const real = (name: 'qwen3' | 'llama3') => JSON.parse(readFileSync(realTokenizerFile(name), 'utf8')) as Record<string, unknown>;

describe('ggufTokenizerKind', () => {
  it("names the real files' splits as llama.cpp does", () => {
    // Qwen's NFC is noted (llama.cpp applies none), not refused
    expect(ggufTokenizerKind(real('qwen3'), 'qwen3')).toEqual({ pre: 'qwen2', nfc: true });
    expect(ggufTokenizerKind(real('llama3'), 'llama3').pre).toBe('llama-bpe');
    // a plain ByteLevel pre-tokenizer with its own (GPT-2) regex
    expect(ggufTokenizerKind({ pre_tokenizer: { type: 'ByteLevel', use_regex: true } }, 'gpt2').pre).toBe('gpt-2');
  });

  it('sets the BOS a TemplateProcessing puts before every sequence', () => {
    const json = {
      ...real('llama3'),
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
      },
    };
    expect(ggufTokenizerKind(json, 'llama3')).toEqual({ pre: 'llama-bpe', bos: 128000, nfc: false });
  });

  it('refuses what llama.cpp would tokenize differently', () => {
    const refused = (json: unknown): string => {
      try {
        ggufTokenizerKind(json, 't.json');
      } catch (e) {
        expect(isUserError(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused({ ...real('qwen3'), normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] } })).toMatch(
      /^t\.json: its normalizer \(NFC, Lowercase\) is not one llama\.cpp applies/,
    );
    const other = real('qwen3');
    ((other.pre_tokenizer as { pretokenizers: { pattern: { Regex: string } }[] }).pretokenizers[0].pattern.Regex as string) = '\\s+|\\w+';
    expect(refused(other)).toMatch(/its pre-tokenizer split \(".*"\) is not one llama\.cpp knows by name \(qwen2, llama-bpe, gpt-2\)/);
    // NFKC folds compatibility characters ("ﬁ" -> "fi"); only NFC is let through (with a note)
    expect(refused({ ...real('qwen3'), normalizer: { type: 'NFKC' } })).toMatch(/its normalizer \(NFKC\) is not one llama\.cpp applies/);
    // a ByteLevel pre-tokenizer that does not split (use_regex false) and no Split: no regex llama.cpp could name
    expect(refused({ pre_tokenizer: { type: 'ByteLevel', use_regex: false } })).toMatch(/its pre-tokenizer split \(none\)/);
  });
});
