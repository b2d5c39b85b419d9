// Test tokenizer: byte-level BPE with every byte as a token (ids 0..255), a few merges (so some tokens are
// several bytes and a stop string can straddle tokens in different ways, or end inside one: ">a") and our
// template's added tokens.
// Built in memory from a tokenizer.json object; also written to disk for checkpoint tests. Test data only.
import { Tokenizer } from '@lwz/tokenizer';

const MERGES: [string, string][] = [
  ['a', 'n'],
  ['e', 'r'],
  ['<', '/'],
  ['w', 'er'],
  ['an', 's'],
  ['t', 'h'],
  ['>', 'a'],
];

const ADDED: { content: string; special: boolean }[] = [
  { content: '<|endoftext|>', special: true },
  { content: '<|im_start|>', special: true },
  { content: '<|im_end|>', special: true },
  { content: '<think>', special: false },
  { content: '</think>', special: false },
  { content: '<answer>', special: false },
];

function byteChars(): string[] {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + extra++));
}

/** tokenizer.json content; `</answer>` is deliberately NOT an added token, so it arrives in pieces. */
export function byteTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  byteChars().forEach((ch, i) => (vocab[ch] = i));
  for (const [a, b] of MERGES) vocab[a + b] = Object.keys(vocab).length;
  const first = Object.keys(vocab).length;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    added_tokens: ADDED.map((t, i) => ({
      id: first + i,
      content: t.content,
      special: t.special,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: 'BPE', vocab, merges: MERGES.map(([a, b]) => `${a} ${b}`) },
  };
}

export function byteTokenizer(): Tokenizer {
  return new Tokenizer(byteTokenizerJson(), { eos_token: '<|endoftext|>' });
}
