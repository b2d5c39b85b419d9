// Parity with @huggingface/tokenizers (the reference) on the real Qwen3 and Llama-3 tokenizer.json files:
// identical ids on the whole corpus, every added token, and decode(encode(x)) == x (NFC-normalized for Qwen,
// whose normalizer is NFC).
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { HAND_WRITTEN, englishProse, randomUnicode } from './testing/corpus';
import { REAL_TOKENIZERS, firstMismatch, loadHfTokenizer, realTokenizerFile } from './testing/real-tokenizers';
import { Tokenizer } from './tokenizer';

const KNOWN: Record<string, [string, number[]][]> = {
  qwen3: [
    ['Hello world', [9707, 1879]],
    ['<|im_start|>user\n<think>', [151644, 872, 198, 151667]],
  ],
  llama3: [
    ['Hello world', [9906, 1917]],
    ['<|begin_of_text|>Hi', [128000, 13347]],
  ],
};

describe.each(REAL_TOKENIZERS)('%s tokenizer.json parity with @huggingface/tokenizers', (name) => {
  let ours: Tokenizer;
  let hf: HfTokenizer;
  const normalizeLikeFile = (s: string): string => (name === 'qwen3' ? s.normalize('NFC') : s);

  beforeAll(() => {
    const file = realTokenizerFile(name);
    ours = Tokenizer.fromFile(file);
    hf = loadHfTokenizer(file, file.replace(/tokenizer\.json$/, 'tokenizer_config.json'));
  });

  it('matches known id vectors', () => {
    for (const [text, ids] of KNOWN[name]) expect(ours.encode(text)).toEqual(ids);
  });

  it('gives identical ids and tokens on the hand-written corpus', () => {
    for (const text of HAND_WRITTEN) {
      const ref = hf.encode(text);
      expect({ text, ids: ours.encode(text) }).toEqual({ text, ids: ref.ids });
      expect(ours.tokens(ours.encode(text))).toEqual(ref.tokens);
      expect({ text, ids: ours.encode(text, { addSpecialTokens: false }) }).toEqual({
        text,
        ids: hf.encode(text, { add_special_tokens: false }).ids,
      });
    }
  });

  it('gives identical ids on 200k characters of English prose', () => {
    const text = englishProse(200_000);
    const a = ours.encode(text);
    const b = hf.encode(text).ids;
    expect(firstMismatch(a, b)).toBe(-1);
  });

  it('gives identical ids on seeded random Unicode', () => {
    for (const text of randomUnicode(7, 300, 40)) expect({ text, ids: ours.encode(text) }).toEqual({ text, ids: hf.encode(text).ids });
  });

  it('matches every added token alone, glued to words, next to each other and after spaces', () => {
    const contents = ours.addedTokens.map((t) => t.content);
    expect(contents.length).toBeGreaterThan(10);
    const texts = [
      contents.join(''),
      contents.join(' '),
      contents.map((c) => `word${c}word`).join('\n'),
      contents.map((c) => ` ${c}  x`).join(''),
      ...contents.map((c) => `<${c}>`),
    ];
    for (const text of texts) expect({ text, ids: ours.encode(text) }).toEqual({ text, ids: hf.encode(text).ids });
    for (const t of ours.addedTokens) expect(ours.encode(t.content, { addSpecialTokens: false })).toEqual([t.id]);
  });

  it('round-trips decode(encode(x)) == x and decodes like the reference', () => {
    const texts = [...HAND_WRITTEN, ...randomUnicode(11, 100, 30), englishProse(20_000)];
    for (const text of texts) {
      const ids = ours.encode(text);
      expect(ours.decode(ids)).toBe(normalizeLikeFile(text));
      if (ids.length > 0) expect(ours.decode(ids)).toBe(hf.decode(ids, { clean_up_tokenization_spaces: false }));
    }
  });

  it('streams decode token by token without splitting characters, and batches like single encodes', () => {
    const texts = HAND_WRITTEN.filter((t) => t.length > 0);
    for (const text of texts) {
      const ids = ours.encode(text);
      const stream = ours.decodeStream();
      const chunks = ids.map((id) => stream.push(id));
      expect(chunks.join('') + stream.flush()).toBe(normalizeLikeFile(text));
      for (const c of chunks) expect(c).not.toContain('\ufffd');
    }
    expect(ours.encodeBatch(texts)).toEqual(texts.map((t) => ours.encode(t)));
  });

  it('skips special tokens on request, as the reference does', () => {
    const special = ours.addedTokens.filter((t) => t.special).map((t) => t.content);
    const text = `${special[0]}Hi there${special[1]} and <think>x</think>${special[2]}`;
    const ids = ours.encode(text);
    expect(ours.decode(ids, { skipSpecialTokens: true })).toBe(
      hf.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
    );
    expect(ours.decode(ids)).toBe(text);
  });
});
