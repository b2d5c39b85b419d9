// Pipeline variants the real Qwen3 / Llama-3 files do not exercise, checked against @huggingface/tokenizers on
// a small trained vocab: the GPT-2 layout (ByteLevel pre-tokenizer with its own regex, "a b" string merges),
// add_prefix_space, a TemplateProcessing post-processor adding BOS/EOS, and an NFKC normalizer.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { HAND_WRITTEN, englishProse, randomUnicode } from './testing/corpus';
import { Tokenizer } from './tokenizer';
import { toTokenizerJson } from './tokenizer-json';
import { trainBpe } from './train-bpe';

const trained = trainBpe([englishProse(60_000)], { vocabSize: 700 });
const base = toTokenizerJson(trained);
const model = base.model as { merges: [string, string][] };
const bos = trained.vocab.length; // <|endoftext|>
const im = trained.vocab.length + 1; // <|im_start|>

const variants: Record<string, Record<string, unknown>> = {
  'GPT-2 layout': {
    ...base,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { ...model, merges: model.merges.map(([a, b]) => `${a} ${b}`) },
  },
  'add_prefix_space + TemplateProcessing': {
    ...base,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '<|endoftext|>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<|im_start|>', type_id: 0 } },
      ],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: {
        '<|endoftext|>': { id: '<|endoftext|>', ids: [bos], tokens: ['<|endoftext|>'] },
        '<|im_start|>': { id: '<|im_start|>', ids: [im], tokens: ['<|im_start|>'] },
      },
    },
  },
  'NFKC + Lowercase': { ...base, normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] } },
};

describe.each(Object.keys(variants))('%s', (name) => {
  const json = variants[name];
  const ours = new Tokenizer(json, {});
  const hf = new HfTokenizer(json, {});

  it('encodes like @huggingface/tokenizers, with and without special tokens', () => {
    const withSpecials = ['a<|im_start|>b c', '<think>x</think> <answer>y', ' <|endoftext|>  z'];
    for (const text of [...HAND_WRITTEN, ...withSpecials, ...randomUnicode(21, 100, 30), englishProse(120_000).slice(60_000)]) {
      expect({ text, ids: ours.encode(text) }).toEqual({ text, ids: hf.encode(text).ids });
      expect({ text, ids: ours.encode(text, { addSpecialTokens: false }) }).toEqual({
        text,
        ids: hf.encode(text, { add_special_tokens: false }).ids,
      });
    }
  });
});

it('the template variant adds BOS and EOS only when asked', () => {
  const ours = new Tokenizer(variants['add_prefix_space + TemplateProcessing'], {});
  const ids = ours.encode('hi');
  expect([ids[0], ids[ids.length - 1]]).toEqual([bos, im]);
  expect(ours.encode('hi', { addSpecialTokens: false })).toEqual(ids.slice(1, -1));
});
