// Preference pairs for the built-in reward model (issue #11): a real corpus passage (chosen) against the same
// kind of passage corrupted (rejected). Each corruption keeps the rejected text about as long as the chosen
// one (within a sentence), so the RM cannot learn "longer is better" and fight the length reward. Types:
// shuffle, repeat, cut, splice, drop, and `policy` (a sampled answer of the policy against a real passage of
// its length). Pure and seeded: pair i of a stream is a function of (seed, i). Not a data loader.
import { Rng } from '@lwz/core';
import { samplePassage, splitSentences } from '@lwz/data';
import { countWords } from '@lwz/tokenizer';

export const CORRUPTIONS = ['shuffle', 'repeat', 'cut', 'splice', 'drop', 'policy'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

export interface PreferencePair {
  type: Corruption;
  chosen: string;
  rejected: string;
}

export interface PairOptions {
  /** passage length in words, drawn in [lo, hi] (the answer lengths the RM will score) */
  words: readonly [number, number];
  /** share of words removed by `drop` */
  dropShare: number;
}

/** Sentences regrouped into `k` paragraphs (the passage shape samplePassage gives). */
function asParagraphs(sentences: readonly string[], k: number): string {
  const per = Math.max(1, Math.ceil(sentences.length / Math.max(1, k)));
  const parts: string[] = [];
  for (let i = 0; i < sentences.length; i += per) parts.push(sentences.slice(i, i + per).join(' '));
  return parts.join('\n\n');
}

const sentencesOf = (passage: string) => splitSentences(passage).map((s) => s.trim());

/**
 * The passage without a trailing partial sentence (samplePassage cuts at `hi` words, sometimes mid-sentence):
 * a real passage must not look like the `cut` corruption, or the labels contradict each other.
 */
function wholeSentences(passage: string | null): string | null {
  if (passage === null) return null;
  const text = passage.replace(/[^.!?"')\]]*$/, '').trim();
  return text.length ? text : null;
}
const paragraphCount = (passage: string) => passage.split('\n\n').length;

/** The passage's sentences in another order (never the same order when there are >= 2 sentences). */
function shuffle(p: string, rng: Rng): string {
  const s = sentencesOf(p);
  const order = rng.shuffle(s.map((_, i) => i));
  if (order.every((v, i) => v === i)) order.reverse();
  return asParagraphs(
    order.map((i) => s[i]),
    paragraphCount(p),
  );
}

/** The first half of the passage (floor, so never longer) written twice, as two paragraphs: padding by copying. */
function repeat(p: string): string {
  const s = sentencesOf(p);
  const half = s.slice(0, Math.max(1, Math.floor(s.length / 2)));
  return `${half.join(' ')}\n\n${half.join(' ')}`;
}

/**
 * A cut-off pair from one passage: chosen = its sentences but the last, rejected = the same plus the start of
 * the last sentence (no closing punctuation). The rejected side is the longer one, so this type teaches "an
 * unfinished sentence is worse", never "shorter is worse".
 */
function cut(p: string, rng: Rng): { chosen: string; rejected: string } {
  const s = sentencesOf(p);
  const k = paragraphCount(p);
  const last = s[s.length - 1].split(' ');
  const keep = Math.max(1, Math.floor(last.length * (0.3 + 0.4 * rng.next())));
  const cutLast = last
    .slice(0, keep)
    .join(' ')
    .replace(/[.!?"')\]]+$/, '');
  return { chosen: asParagraphs(s.slice(0, -1), k), rejected: asParagraphs([...s.slice(0, -1), cutLast], k) };
}

/** The first half of this passage's sentences, then another document's passage from its middle on, to about the same length. */
function splice(p: string, other: string): string {
  const a = sentencesOf(p);
  const b = sentencesOf(other);
  const head = a.slice(0, Math.max(1, Math.floor(a.length / 2)));
  const want = countWords(p);
  const out = [...head];
  let n = countWords(head.join(' '));
  // add whole sentences while that brings the length closer to the chosen one (no systematic overshoot)
  for (let i = Math.floor(b.length / 2); i < b.length; i++) {
    const w = countWords(b[i]);
    if (Math.abs(n + w - want) >= Math.abs(n - want)) break;
    out.push(b[i]);
    n += w;
  }
  return asParagraphs(out, paragraphCount(p));
}

/** A longer passage with `share` of its words removed at random, so it ends up about as long as the chosen one. */
function drop(longer: string, share: number, rng: Rng): string {
  return longer
    .split('\n\n')
    .map((para) =>
      para
        .split(' ')
        .filter(() => rng.next() >= share)
        .join(' '),
    )
    .filter((para) => para.length)
    .join('\n\n');
}

/**
 * Pair `index` of the stream `seed` over the documents' sentence lists (documentSentences). `policyAnswers`
 * enables the `policy` type (an answer the policy wrote is the rejected side); `types` picks the mix, one type
 * per pair in turn. Null when the documents cannot give a passage of the asked length.
 */
export function makePair(
  docs: readonly string[][],
  seed: number,
  index: number,
  types: readonly Corruption[],
  opts: PairOptions,
  policyAnswers: readonly string[] = [],
): PreferencePair | null {
  const type = types[index % types.length];
  const rng = new Rng(seed).split(`pair/${index}`);
  const [lo, hi] = opts.words;
  if (type === 'policy') {
    if (!policyAnswers.length) throw new Error('preference pairs: type "policy" needs policy answers (rm.policySamples)');
    const rejected = policyAnswers[rng.int(policyAnswers.length)];
    const n = Math.max(lo, Math.min(hi, countWords(rejected)));
    const chosen = wholeSentences(samplePassage(docs, rng, Math.max(lo, Math.floor(n * 0.9)), Math.min(hi, Math.ceil(n * 1.1))));
    return chosen === null ? null : { type, chosen, rejected };
  }
  const chosen = wholeSentences(samplePassage(docs, rng, lo, hi));
  if (chosen === null || sentencesOf(chosen).length < 2) return null;
  switch (type) {
    case 'shuffle':
      return { type, chosen, rejected: shuffle(chosen, rng) };
    case 'repeat':
      return { type, chosen, rejected: repeat(chosen) };
    case 'cut':
      return { type, ...cut(chosen, rng) };
    case 'splice': {
      const n = countWords(chosen);
      // the partner comes from another document: a splice within one document can be a seamless continuation
      const first = sentencesOf(chosen)[0];
      const others = docs.filter((d) => !d.some((x) => x.trim() === first));
      const other = samplePassage(others.length ? others : docs, rng, n, n + 10);
      return other === null ? null : { type, chosen, rejected: splice(chosen, other) };
    }
    case 'drop': {
      const n = countWords(chosen);
      const longer = samplePassage(docs, rng, Math.round(n / (1 - opts.dropShare)), Math.round(n / (1 - opts.dropShare)) + 5);
      return longer === null ? null : { type, chosen, rejected: drop(longer, opts.dropShare, rng) };
    }
  }
}

/** `count` pairs per type from stream `seed` (the held-out set: fixed, so accuracies compare across runs). */
export function heldoutPairs(
  docs: readonly string[][],
  seed: number,
  count: number,
  types: readonly Corruption[],
  opts: PairOptions,
  policyAnswers: readonly string[] = [],
): PreferencePair[] {
  return collectPairs(docs, seed, 0, count * types.length, types, opts, policyAnswers);
}

/**
 * The pairs of update `step` of the training stream `seed`: `perStep` pairs from stream indices
 * step * perStep * 4 on, skipping nulls (at most 4 * perStep tries, so a step may come short).
 */
export function streamBatch(
  docs: readonly string[][],
  seed: number,
  step: number,
  perStep: number,
  types: readonly Corruption[],
  opts: PairOptions,
  policyAnswers: readonly string[] = [],
): PreferencePair[] {
  return collectPairs(docs, seed, step * perStep * 4, perStep, types, opts, policyAnswers);
}

/** Up to `want` pairs of stream `seed` from index `start` on, skipping nulls (at most 4 * want tries). */
function collectPairs(
  docs: readonly string[][],
  seed: number,
  start: number,
  want: number,
  types: readonly Corruption[],
  opts: PairOptions,
  policyAnswers: readonly string[],
): PreferencePair[] {
  const out: PreferencePair[] = [];
  for (let k = 0; out.length < want && k < want * 4; k++) {
    const p = makePair(docs, seed, start + k, types, opts, policyAnswers);
    if (p) out.push(p);
  }
  return out;
}

/** Up to `perType` pairs of each type, the first ones in `batches`' order (e.g. the first a run trains on). */
export function firstPerType(
  batches: Iterable<readonly PreferencePair[]>,
  perType: number,
  types: readonly Corruption[],
): PreferencePair[] {
  const count = new Map<Corruption, number>(types.map((t) => [t, 0]));
  const out: PreferencePair[] = [];
  for (const batch of batches) {
    for (const p of batch) {
      const n = count.get(p.type) ?? perType;
      if (n < perType) {
        out.push(p);
        count.set(p.type, n + 1);
      }
    }
    if (out.length === perType * types.length) break;
  }
  return out;
}
