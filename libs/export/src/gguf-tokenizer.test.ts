// What the GGUF header says about the tokenizer follows its tokenizer.json: llama.cpp's pre-tokenizer name for the
// split regex (checked on the real Qwen3 and Llama-3 files), a BOS / EOS when the post-processor adds one, and a
// refusal for what llama.cpp would read differently (another regex, a Lowercase normalizer, a template adding more).
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

  it('reads BOS and EOS from where a template puts special tokens around the text', () => {
    const sp = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
    const text = { Sequence: { id: 'A', type_id: 0 } };
    const special_tokens = { '<s>': { id: '<s>', ids: [1] }, '</s>': { id: '</s>', ids: [2] } };
    const kind = (single: unknown[]) =>
      ggufTokenizerKind({ ...real('llama3'), post_processor: { type: 'TemplateProcessing', single, special_tokens } }, 't');
    expect(kind([text])).toEqual({ pre: 'llama-bpe', nfc: false });
    expect(kind([sp('<s>'), text, sp('</s>')])).toEqual({ pre: 'llama-bpe', nfc: false, bos: 1, eos: 2 });
    expect(kind([text, sp('</s>')])).toEqual({ pre: 'llama-bpe', nfc: false, eos: 2 });
    // inside a Sequence of processors, as tokenizers' ByteLevel + TemplateProcessing files hold it
    const inSequence = {
      type: 'Sequence',
      processors: [{ type: 'ByteLevel' }, { type: 'TemplateProcessing', single: [sp('<s>'), text], special_tokens }],
    };
    expect(ggufTokenizerKind({ ...real('llama3'), post_processor: inSequence }, 't').bos).toBe(1);
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
    // llama.cpp adds at most one token each side of the text; a template of a lone special token has no text at all
    const sp = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
    const text = { Sequence: { id: 'A', type_id: 0 } };
    const special_tokens = { '<s>': { id: '<s>', ids: [1] }, '<sys>': { id: '<sys>', ids: [3] }, '</s>': { id: '</s>', ids: [2] } };
    const template = (single: unknown[]) => ({ ...real('llama3'), post_processor: { type: 'TemplateProcessing', single, special_tokens } });
    for (const single of [[sp('<s>')], [sp('<s>'), sp('<sys>'), text], [text, sp('</s>'), sp('</s>')]]) {
      expect(refused(template(single))).toMatch(
        /^t\.json: its post_processor template \(.*\) is not the text with at most one special token before it \(BOS\) and one after it \(EOS\)/,
      );
    }
  });
});
