// BPE training on a slice of the default corpus (State of the Union + Moby-Dick, read from their npm
// packages): deterministic, the first merge is the brute-force most frequent pair, and the written
// tokenizer.json loads in @huggingface/tokenizers and encodes identically to ours, round-tripping text.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BYTE_TO_CHAR } from './byte-level';
import { DEFAULT_SPECIAL_TOKENS } from './special-tokens';
import { renderChatML, renderChatTemplate } from './templates';
import { HAND_WRITTEN, englishProse, sotuProse } from './testing/corpus';
import { firstMismatch } from './testing/real-tokenizers';
import { Tokenizer } from './tokenizer';
import { countPreTokens, trainBpe } from './train-bpe';
import { toTokenizerConfig, toTokenizerJson } from './tokenizer-json';

const VOCAB = 1024;
const train = (): ReturnType<typeof trainBpe> =>
  trainBpe([sotuProse(150_000), englishProse(100_000) + '<|im_end|>tail'], { vocabSize: VOCAB });

describe('trainBpe', () => {
  const trained = train();
  const json = toTokenizerJson(trained);
  const config = toTokenizerConfig(trained);

  it('fills the vocabulary exactly, bytes first and special tokens last', () => {
    expect(trained.vocab.length + DEFAULT_SPECIAL_TOKENS.length).toBe(VOCAB);
    expect(trained.vocab.slice(0, 256)).toEqual(BYTE_TO_CHAR);
    const added = json.added_tokens as { id: number; content: string }[];
    expect(added.map((t) => t.content)).toEqual(DEFAULT_SPECIAL_TOKENS.map((s) => s.content));
    expect(added[added.length - 1].id).toBe(VOCAB - 1);
  });

  it('is deterministic', () => {
    const again = train();
    expect(again.merges).toEqual(trained.merges);
    expect(again.vocab).toEqual(trained.vocab);
  });

  it('learns the most frequent byte pair first (brute-force count over pre-tokens)', () => {
    const counts = countPreTokens([sotuProse(150_000), englishProse(100_000) + '<|im_end|>tail'], DEFAULT_SPECIAL_TOKENS);
    const pairs = new Map<string, number>();
    for (const [word, c] of counts) {
      const bytes = Array.from(new TextEncoder().encode(word), (b) => BYTE_TO_CHAR[b]);
      for (let i = 0; i + 1 < bytes.length; i++)
        pairs.set(bytes[i] + ' ' + bytes[i + 1], (pairs.get(bytes[i] + ' ' + bytes[i + 1]) ?? 0) + c);
    }
    const max = Math.max(...pairs.values());
    const best = [...pairs].filter(([, c]) => c === max).map(([p]) => p);
    expect(best).toContain(trained.merges[0].join(' '));
  });

  it('writes files @huggingface/tokenizers loads and encodes identically, round-tripping text', () => {
    const ours = new Tokenizer(json, config);
    const hf = new HfTokenizer(json, config);
    const heldOut = englishProse(160_000).slice(100_000);
    expect(firstMismatch(ours.encode(heldOut), hf.encode(heldOut).ids)).toBe(-1);
    expect(ours.encode(heldOut).length).toBeLessThan(heldOut.length / 2.5); // it learned real merges
    for (const text of [...HAND_WRITTEN, renderChatML([{ role: 'user', content: 'Plan <think>a</think><answer>b</answer>' }])]) {
      const ids = ours.encode(text);
      expect({ text, ids }).toEqual({ text, ids: hf.encode(text).ids });
      expect(ours.decode(ids)).toBe(text.normalize('NFC'));
    }
    expect(ours.encode('<|im_start|><think></answer>')).toEqual([VOCAB - 6, VOCAB - 4, VOCAB - 1]);
  });

  it('ships a chat template that renders like renderChatML', () => {
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Hi' },
    ];
    expect(renderChatTemplate(config.chat_template as string, messages)).toBe(renderChatML(messages));
  });

  it('rejects a vocabulary too small for the bytes and special tokens', () => {
    expect(() => trainBpe(['x'], { vocabSize: 260 })).toThrow(/too small/);
    expect(() => trainBpe(['x'], { vocabSize: 300.5 })).toThrow(/vocab size must be a whole number, got 300\.5/);
  });

  it('merges a 3,000-character pre-token (an unpunctuated CJK run) as a brute-force trainer does', () => {
    // one letter run is one pre-token; every merge rewrites it, the case whose heap entries once piled up into millions
    const text = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7) % 13) + ((i >> 5) % 3))).join('');
    const specials = DEFAULT_SPECIAL_TOKENS;
    const got = trainBpe([text], { vocabSize: 256 + specials.length + 40 });
    // the reference: count every adjacent pair, take the most frequent (ties: lowest left id, then right), merge it
    // left to right everywhere, repeat
    let words = [...countPreTokens([text], specials)].map(([w, c]) => ({ ids: Array.from(new TextEncoder().encode(w)), c }));
    const vocab = [...BYTE_TO_CHAR];
    const want: [string, string][] = [];
    while (want.length < 40) {
      const counts = new Map<string, number>();
      for (const { ids, c } of words)
        for (let i = 0; i + 1 < ids.length; i++) counts.set(`${ids[i]},${ids[i + 1]}`, (counts.get(`${ids[i]},${ids[i + 1]}`) ?? 0) + c);
      const [[best, n]] = [...counts].sort(
        ([k1, c1], [k2, c2]) =>
          c2 - c1 || Number(k1.split(',')[0]) - Number(k2.split(',')[0]) || Number(k1.split(',')[1]) - Number(k2.split(',')[1]),
      );
      if (n < 2) break;
      const [a, b] = best.split(',').map(Number);
      const m = vocab.indexOf(vocab[a] + vocab[b]) >= 0 ? vocab.indexOf(vocab[a] + vocab[b]) : vocab.push(vocab[a] + vocab[b]) - 1;
      want.push([vocab[a], vocab[b]]);
      words = words.map(({ ids, c }) => {
        const out: number[] = [];
        for (let i = 0; i < ids.length; i++) {
          if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
            out.push(m);
            i++;
          } else out.push(ids[i]);
        }
        return { ids: out, c };
      });
    }
    expect(got.merges).toEqual(want);
  });

  it('refuses settings that would train something else than asked, naming them', () => {
    // a pair whose count fell to 0 after earlier merges was merged as filler below a frequency of 1
    expect(() => trainBpe(['ab ab cd xy'], { vocabSize: 300, minFrequency: 0 })).toThrow(/minFrequency must be a number >= 1, got 0/);
    expect(() => trainBpe(['ab'], { vocabSize: 300, minFrequency: Number.NaN })).toThrow(/minFrequency/);
    const sp = (content: string) => ({ content, special: true });
    expect(() => trainBpe(['ab'], { vocabSize: 300, specialTokens: [sp('<a>'), sp('<a>')] })).toThrow(
      /special token "<a>" is listed twice/,
    );
    expect(() => trainBpe(['ab'], { vocabSize: 300, specialTokens: [sp('e')] })).toThrow(/"e" is one of the 256 byte tokens/);
    // a special that starts another is cut as the longer one, as encoding (longest match) reads it: no stray "b"
    const pieces = [...countPreTokens(['x<a>by'], [sp('<a>'), sp('<a>b')]).keys()];
    expect(pieces).toEqual(['x', 'y']);
  });
});
