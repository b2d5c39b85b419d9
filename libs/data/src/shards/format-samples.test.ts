import { Rng } from '@lwz/core';
import { Tokenizer, countWords, parseCompletion } from '@lwz/tokenizer';
import { generateWritingPrompts } from '../prompts/generator';
import type { CorpusDocument } from '../corpus/document';
import {
  DEFAULT_FORMAT_SAMPLES,
  EMBEDDED_LENGTH_BUDGET,
  buildFormatSamples,
  documentSentences,
  lazyDocumentSentences,
  samplePassage,
} from './format-samples';

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<think>', '</think>', '<answer>', '</answer>'];

/** One id per byte (GPT-2 byte table), the specials after 256, and ChatML (no chat template: our renderer). */
function byteTokenizer(): Tokenizer {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let next = 256;
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[String.fromCodePoint(keep(b) ? b : next++)] = b;
  return new Tokenizer({
    model: { type: 'BPE', vocab, merges: [] },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    added_tokens: SPECIALS.map((content, i) => ({
      id: 256 + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
  });
}

/** Documents of random sentences (seeded), long enough for every target length. */
function corpus(n: number): CorpusDocument[] {
  const rng = new Rng(3);
  const words = ['the', 'sea', 'whale', 'nation', 'people', 'ship', 'congress', 'law', 'storm', 'harbor', 'captain', 'year'];
  return Array.from({ length: n }, (_, d) => {
    const sentences = Array.from({ length: 80 }, () => {
      const len = 5 + rng.int(15);
      const s = Array.from({ length: len }, () => rng.pick(words)).join(' ');
      return `${s[0].toUpperCase()}${s.slice(1)}${rng.pick(['.', '!', '?'])}`;
    });
    return { id: `d${d}`, title: `Doc ${d}`, source: 'test', text: sentences.join(' ') };
  });
}

describe('buildFormatSamples', () => {
  const tok = byteTokenizer();
  const docs = corpus(6);
  const train = 200_000;
  const built = buildFormatSamples(docs, tok, train, DEFAULT_FORMAT_SAMPLES);

  it('adds formatted samples until they are `share` of the mixed train tokens', () => {
    const share = built.tokens / (built.tokens + train);
    expect(share).toBeGreaterThanOrEqual(DEFAULT_FORMAT_SAMPLES.share);
    expect(share).toBeLessThan(DEFAULT_FORMAT_SAMPLES.share + 0.01);
    expect(built.ids.reduce((n, ids) => n + ids.length, 0)).toBe(built.tokens);
  });

  it('gives valid completions whose answers lie inside the prompt length range', () => {
    for (const s of built.samples) {
      const start = s.text.indexOf('<|im_start|>assistant\n') + '<|im_start|>assistant\n'.length;
      const parsed = parseCompletion(s.text.slice(start), s.template);
      expect(parsed.violations).toEqual([]);
      const m = /(\d+)/.exec(s.prompt);
      expect(m).not.toBeNull();
      expect(countWords(parsed.answer ?? '')).toBe(s.answerWords);
    }
    // each answer within the generated row's range: regenerate the rows and look them up by prompt text
    const ranges = new Map<string, [number, number]>();
    for (let b = 0; b < 20; b++) {
      const { train: rows } = generateWritingPrompts({
        seed: DEFAULT_FORMAT_SAMPLES.seed + b,
        train: 200,
        heldout: 1,
        heldoutTopicFraction: 0.2,
        budget: EMBEDDED_LENGTH_BUDGET,
      });
      for (const r of rows) ranges.set(r.prompt, r.length_range);
    }
    for (const s of built.samples) {
      const [lo, hi] = ranges.get(s.prompt) ?? [NaN, NaN];
      expect(s.answerWords).toBeGreaterThanOrEqual(lo);
      expect(s.answerWords).toBeLessThanOrEqual(hi);
    }
  });

  it('mixes the direct template at about its share', () => {
    const direct = built.samples.filter((s) => s.template === 'direct').length / built.samples.length;
    expect(Math.abs(direct - DEFAULT_FORMAT_SAMPLES.directShare)).toBeLessThan(0.12);
    expect(built.samples.some((s) => s.template === 'think' && s.text.includes('<think>'))).toBe(true);
  });

  it('never uses a held-out prompt or topic', () => {
    const { heldout } = generateWritingPrompts({
      seed: 0,
      train: 1,
      heldout: 300,
      heldoutTopicFraction: 0.2,
      budget: EMBEDDED_LENGTH_BUDGET,
    });
    const heldTopics = new Set(heldout.map((r) => r.topic));
    const heldPrompts = new Set(heldout.map((r) => r.prompt));
    for (const s of built.samples) {
      expect(heldPrompts.has(s.prompt)).toBe(false);
      for (const t of heldTopics) expect(s.prompt.includes(t)).toBe(false);
    }
  });

  it('is deterministic and empty at share 0', () => {
    const again = buildFormatSamples(docs, tok, train, DEFAULT_FORMAT_SAMPLES);
    expect(again.samples.map((s) => s.text)).toEqual(built.samples.map((s) => s.text));
    expect(buildFormatSamples(docs, tok, train, { ...DEFAULT_FORMAT_SAMPLES, share: 0 }).samples).toEqual([]);
  });
});

describe('buildFormatSamples on a corpus of short documents', () => {
  it('returns what it can instead of searching forever', () => {
    const short: CorpusDocument[] = Array.from({ length: 5 }, (_, i) => ({
      id: `s${i}`,
      title: '',
      source: 't',
      text: 'Too short. Far too short to use.',
    }));
    expect(buildFormatSamples(short, byteTokenizer(), 100_000, DEFAULT_FORMAT_SAMPLES).samples).toEqual([]);
  });
});

describe('lazyDocumentSentences', () => {
  it('draws the same documents and sentences as documentSentences, from the text as it is', () => {
    const rng = new Rng(3);
    const words = ['storm', 'harbour', 'the', 'a', 'ship', 'sailed', 'north', 'quietly', '...', '?!'];
    const gaps = [' ', '  ', '\n', '\n\n', ' \t ', '\u00a0', '\r\n'];
    const sentence = () =>
      `${Array.from({ length: 2 + rng.int(8) }, () => rng.pick(words)).join(rng.pick(gaps))}${rng.pick(['.', '!', '?', '."', '.)'])}`;
    // 0-7 sentences each, separated by runs of every kind of white space, with stray punctuation and an unfinished
    // tail; documents with fewer than 4 sentences are left out of both
    const docs: CorpusDocument[] = Array.from({ length: 60 }, (_, i) => ({
      id: `d${i}`,
      title: '',
      source: 'test',
      text:
        rng.pick(['', '\n  ', '. ']) +
        Array.from({ length: rng.int(8) }, sentence).join(rng.pick(gaps)) +
        rng.pick(['', ' and then', '\n']),
    }));
    const eager = documentSentences(docs);
    const lazy = lazyDocumentSentences(docs);
    expect(eager.length).toBeGreaterThan(10);
    expect(eager.length).toBeLessThan(docs.length);
    expect(lazy.length).toBe(eager.length);
    eager.forEach((sentences, d) => {
      expect(lazy.sentenceCount(d)).toBe(sentences.length);
      sentences.forEach((s, i) => expect(lazy.sentence(d, i)).toBe(s));
    });
    // and the passages drawn through each are the same
    const [a, b] = [new Rng(9), new Rng(9)];
    for (let k = 0; k < 30; k++) expect(samplePassage(lazy, a, 10, 30)).toBe(samplePassage(eager, b, 10, 30));
  });
});
