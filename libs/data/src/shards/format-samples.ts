// Formatted writing samples for continual pretraining: the paper's CPT corpus held ~1 % long-CoT data "to
// facilitate initial format alignment"; our 4 M-parameter base sees ~1.2 M tokens in all and has never met
// <think>/<answer>, so without these RL gets no format signal. Each sample is a generated TRAINING-split prompt
// rendered under the think (or direct) template, a short plan as think, and a corpus passage whose word count
// lies inside the prompt's length_range as answer, so the base also learns roughly how long N words is.
// Held-out prompts never appear (the generator's held-out topics are disjoint). Not an SFT dataset: 20 % of the
// train tokens by default (why: DEFAULT_FORMAT_SAMPLES).
import { Rng } from '@lwz/core';
import { DIRECT_TEMPLATE, THINK_TEMPLATE, countWords, renderPromptFor, type Tokenizer } from '@lwz/tokenizer';
import type { CorpusDocument } from '../corpus/document';
import { generateWritingPrompts, type LengthBudget, type WritingPromptRow } from '../prompts/generator';

/**
 * The answer lengths the embedded default trains for (RL and these samples): prompt + plan + answer fit the
 * tiny preset's 512-token pretraining windows and its RL context, at ~1.5 tokens per word with our 4096-id
 * BPE. Gives answers of 40 to 213 words.
 */
export const EMBEDDED_LENGTH_BUDGET: LengthBudget = { contextTokens: 512, reservedTokens: 192, tokensPerWord: 1.5, minWords: 40 };

export interface FormatSampleOptions {
  /** share of the train split's tokens that are formatted samples, in [0, 0.5) (0 = none) */
  share: number;
  /** share of those samples under the direct template (the rest: think) */
  directShare: number;
  seed: number;
  budget: LengthBudget;
  /** pretraining window length (the pretrain seqLen): each sample is placed whole inside one window */
  window: number;
}

/**
 * Default: 20 % of train tokens (~1,000 samples in a 600-step tiny run of 4 x 512 tokens). The paper's ~1 % is
 * for a 32B model that has met chat formats before; our 4 M base at 8 % (~200 samples seen) closed its think
 * and answer blocks in only ~2 % of answers, too rare for the format reward to give a signal. A quarter use the
 * direct template so the no-think ablation (tiny-direct) starts from a base that knows that shape too.
 */
export const DEFAULT_FORMAT_SAMPLES: FormatSampleOptions = {
  share: 0.2,
  directShare: 0.25,
  seed: 7,
  budget: EMBEDDED_LENGTH_BUDGET,
  window: 512,
};

export interface FormatSample {
  promptId: string;
  prompt: string;
  template: 'think' | 'direct';
  /** rendered prompt + completion, as tokenized into the shards */
  text: string;
  answerWords: number;
}

const SENTENCE = /[^.!?]+[.!?]+["')\]]*\s*/g;

/** The sentences of a text (each with its closing punctuation and trailing space); a text with none gives []. */
export function splitSentences(text: string): string[] {
  return text.replace(/\s+/g, ' ').match(SENTENCE) ?? [];
}

/** Each document's sentence list, without the documents too short to give a passage (fewer than 4 sentences). */
export function documentSentences(docs: readonly CorpusDocument[]): string[][] {
  return docs.map((d) => splitSentences(d.text)).filter((s) => s.length >= 4);
}

/**
 * Documents' sentences as samplePassage draws them: `length` documents, each with sentenceCount(d) sentences,
 * sentence(d, i) being splitSentences(text)[i]. An array of sentence lists (documentSentences) is one too (sentenceLists).
 */
export interface SentenceSource {
  readonly length: number;
  sentenceCount(d: number): number;
  sentence(d: number, i: number): string;
}

/** A SentenceSource over documentSentences' arrays. */
export function sentenceLists(docs: readonly (readonly string[])[]): SentenceSource {
  return { length: docs.length, sentenceCount: (d) => docs[d].length, sentence: (d, i) => docs[d][i] };
}

/**
 * Where each sentence of `text` starts and ends, as splitSentences finds them, in the text as it is: SENTENCE on the
 * text with its whitespace runs collapsed matches the same stretches as on the text itself (a match starts at a
 * character that is not white space, or at 0, and its trailing \s* takes a whole run), so each sentence is its
 * stretch with the runs collapsed. `limit`: stop after that many. Returns (2n,) [start, end) pairs.
 */
function sentenceBounds(text: string, limit = Infinity): Int32Array {
  const re = new RegExp(SENTENCE.source, 'g');
  const out: number[] = [];
  for (let m = re.exec(text); m !== null && out.length < 2 * limit; m = re.exec(text)) out.push(m.index, m.index + m[0].length);
  return Int32Array.from(out);
}

/**
 * documentSentences without holding every document's sentences at once: the same documents in the same order, with
 * the same sentences, each document's sentence bounds found when it is first drawn (8 bytes a sentence) and a
 * sentence cut out when asked for. For a corpus of hundreds of MB, whose sentence lists would not fit beside its
 * tokens in the JavaScript heap.
 */
export function lazyDocumentSentences(docs: readonly CorpusDocument[]): SentenceSource {
  const eligible = docs.filter((d) => sentenceBounds(d.text, 4).length === 8);
  const bounds = new Map<number, Int32Array>();
  const of = (d: number): Int32Array => {
    let b = bounds.get(d);
    if (!b) bounds.set(d, (b = sentenceBounds(eligible[d].text)));
    return b;
  };
  return {
    length: eligible.length,
    sentenceCount: (d) => of(d).length / 2,
    sentence: (d, i) => {
      const b = of(d);
      return eligible[d].text.slice(b[2 * i], b[2 * i + 1]).replace(/\s+/g, ' ');
    },
  };
}

/**
 * A corpus passage like a formatted sample's answer: whole sentences from a random point of a random document
 * until the word count reaches a draw in [lo, hi] (cut at hi), broken into 1-4 paragraphs; null when 20 tries
 * find no document long enough. Also the built-in reward model's real passages (train-rm).
 */
export function samplePassage(source: SentenceSource | readonly (readonly string[])[], rng: Rng, lo: number, hi: number): string | null {
  const docs = Array.isArray(source) ? sentenceLists(source) : (source as SentenceSource);
  if (!docs.length) return null;
  const want = lo + rng.int(hi - lo + 1);
  for (let attempt = 0; attempt < 20; attempt++) {
    const d = rng.int(docs.length);
    const count = docs.sentenceCount(d);
    let i = rng.int(Math.max(1, count - 4));
    const out: string[] = [];
    let n = 0;
    while (i < count && n < want) {
      const s = docs.sentence(d, i++).trim();
      out.push(s);
      n += countWords(s);
    }
    if (n < lo) continue;
    const words = out.join(' ').split(' ');
    while (words.length > 1 && countWords(words.join(' ')) > hi) words.pop();
    const text = words.join(' ');
    if (countWords(text) >= lo) return paragraphs(text, rng);
  }
  return null;
}

/** Break a passage into 1-4 paragraphs at sentence ends. */
function paragraphs(text: string, rng: Rng): string {
  const sentences = text.match(SENTENCE) ?? [text];
  const k = 1 + rng.int(Math.min(4, sentences.length));
  const per = Math.ceil(sentences.length / k);
  const parts: string[] = [];
  for (let i = 0; i < sentences.length; i += per)
    parts.push(
      sentences
        .slice(i, i + per)
        .map((s) => s.trim())
        .join(' '),
    );
  const tail = text.slice(sentences.join('').length).trim();
  if (tail) parts[parts.length - 1] += ` ${tail}`;
  return parts.join('\n\n');
}

/** A short, regular plan: the genre, the length to aim for and the paragraph count (easy for a tiny model to close). */
function plan(row: WritingPromptRow, words: number, paragraphCount: number): string {
  return `A ${row.genre}, about ${words} words in ${paragraphCount} paragraph${paragraphCount > 1 ? 's' : ''}.`;
}

/** The completion text the model should produce for a sample (what the format reward calls valid). */
export function formatCompletion(template: 'think' | 'direct', think: string, answer: string): string {
  const body = `<answer>\n${answer}\n</answer>`;
  return template === 'think' ? `<think>\n${think}\n</think>\n${body}` : body;
}

/**
 * A sample's ids: its template markers as tokens, its corpus passage as text. When the passage spells a special token,
 * the text is encoded in three parts (up to the passage, the passage with special tokens as text, the rest); else
 * whole, which is the same thing for such text.
 */
function encodeSample(tokenizer: Tokenizer, text: string, passage: string): number[] {
  if (!tokenizer.addedTokens.some((t) => t.special && passage.includes(t.content)))
    return tokenizer.encode(text, { addSpecialTokens: false });
  const at = text.lastIndexOf(passage);
  return [
    ...tokenizer.encode(text.slice(0, at), { addSpecialTokens: false }),
    ...tokenizer.encode(passage, { addSpecialTokens: false, splitSpecialTokens: true }),
    ...tokenizer.encode(text.slice(at + passage.length), { addSpecialTokens: false }),
  ];
}

/**
 * Formatted samples until their tokens reach share / (1 - share) of `trainTokens` (so they are `share` of the
 * mixed split). Deterministic for the same options, documents and tokenizer. `onTokens(n, goal)`: after each sample,
 * its n tokens (progress).
 */
export function buildFormatSamples(
  docs: readonly CorpusDocument[],
  tokenizer: Tokenizer,
  trainTokens: number,
  opts: FormatSampleOptions,
  onTokens?: (tokens: number, goal: number) => void,
): { samples: FormatSample[]; ids: number[][]; tokens: number } {
  if (!(opts.share >= 0 && opts.share < 0.5)) throw new Error(`format samples share must be in [0, 0.5), got ${opts.share}`);
  const goal = (opts.share / (1 - opts.share)) * trainTokens;
  const samples: FormatSample[] = [];
  const ids: number[][] = [];
  let tokens = 0;
  if (goal <= 0 || !docs.length) return { samples, ids, tokens };
  const rng = new Rng(opts.seed).split('format-samples');
  // each document's sentence bounds, found when first drawn (documents with fewer than 4 sentences cannot give a passage)
  const split = lazyDocumentSentences(docs);
  if (!split.length) return { samples, ids, tokens };
  let batch = 0;
  while (tokens < goal) {
    const before = samples.length;
    const { train } = generateWritingPrompts({
      seed: opts.seed + batch,
      train: 200,
      heldout: 1,
      heldoutTopicFraction: 0.2,
      budget: opts.budget,
    });
    batch++;
    for (const row of train) {
      if (tokens >= goal) break;
      const [lo, hi] = row.length_range;
      const answer = samplePassage(split, rng, lo, hi);
      if (answer === null) continue;
      const words = countWords(answer);
      const paragraphCount = answer.split('\n\n').length;
      const template = rng.next() < opts.directShare ? 'direct' : 'think';
      const rendered = renderPromptFor(tokenizer, template === 'think' ? THINK_TEMPLATE : DIRECT_TEMPLATE, row.prompt);
      // after a chat template that opens <think> itself (R1 distills), the think completion continues inside it
      const full = formatCompletion(template, plan(row, words, paragraphCount), answer);
      const completion = rendered.prefill && template === 'think' ? full.slice('<think>\n'.length) : full;
      const text = `${rendered.text}${completion}${rendered.stopStrings.includes('<|im_end|>') ? '<|im_end|>' : ''}`;
      const encoded = encodeSample(tokenizer, text, answer);
      samples.push({ promptId: `${row.id}@${batch - 1}`, prompt: row.prompt, template, text, answerWords: words });
      ids.push(encoded);
      tokens += encoded.length;
      onTokens?.(encoded.length, goal);
    }
    // a corpus whose documents are too short for the asked lengths gives what it can (the shard index shows how many)
    if (samples.length === before) break;
  }
  return { samples, ids, tokens };
}
