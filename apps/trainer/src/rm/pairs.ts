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
  /**
   * Where the rejected text stops being a real passage read from its start: the character offset of the
   * corruption's first character (the first out-of-order sentence, the second copy, the other document's first
   * sentence, the first word after a dropped one; 0 for a policy answer; rejected.length for `cut`, whose
   * every prefix is real text and only the end is wrong). Labels for the RM's per-position loss (`tokenCoef`).
   */
  rejectedBreak: number;
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

/** A sentence end: ., ! or ? and the quotes and brackets that close it. */
const SENTENCE_END = String.raw`[.!?]["'\u201d\u2019)\]]*`;
const UP_TO_LAST_END = new RegExp(String.raw`^[\s\S]*${SENTENCE_END}`);
const ENDS_FINISHED = new RegExp(String.raw`${SENTENCE_END}\s*$`);

/**
 * The passage up to its last sentence end (., ! or ?, with the quotes and brackets that close it): samplePassage cuts
 * at `hi` words, sometimes mid-sentence, and a side ending unfinished must be the corruption itself, never a stray
 * difference (a text ending "... of our own success. We'" passed as whole when a quote counted as an end). Exported
 * for tests.
 */
export function wholeSentences(passage: string | null): string | null {
  if (passage === null) return null;
  const m = UP_TO_LAST_END.exec(passage);
  const text = m ? m[0].trim() : '';
  return text.length ? text : null;
}

/**
 * A policy answer as the rejected side of a `policy` pair: template markup (<think> blocks, answer tags, special
 * tokens like <|im_end|>) removed and cut to whole sentences, so the pair differs in the writing, not in markup or in
 * an unfinished last sentence (which `cut` pairs already teach; with them, "ends with a period" alone scored 71 % of
 * the held-out pairs, as much as the RM). Null when no whole sentence is left.
 */
export function policyText(answer: string): string | null {
  const plain = answer
    .replace(/<think>[\s\S]*?(<\/think>|$)/g, ' ')
    .replace(/<\/?(answer|think)>|<\|[^|>]*\|>/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .trim();
  return wholeSentences(plain);
}
const paragraphCount = (passage: string) => passage.split('\n\n').length;

/**
 * The passage's whole-sentence prefix whose words come closest to `target` (at least one sentence), in about as
 * many paragraphs per sentence: sides sized to a word count without a systematic shortfall (a passage cut to whole
 * sentences alone loses half a sentence on average, and "longer wins" then decided 74 % of the drop pairs).
 */
function closestPrefix(passage: string | null, target: number): string | null {
  const whole = wholeSentences(passage);
  if (whole === null) return null;
  const s = sentencesOf(whole);
  const k = sentencesNear(s, target, s.length, () => true);
  return asParagraphs(s.slice(0, k), Math.max(1, Math.round((paragraphCount(whole) * k) / s.length)));
}

/**
 * How many of the first sentences `s` bring their words closest to `target` (at least 1, at most `max`); an exact
 * tie takes one more sentence when `extendOnTie()` says so.
 */
function sentencesNear(s: readonly string[], target: number, max: number, extendOnTie: () => boolean): number {
  let k = 1;
  let words = countWords(s[0]);
  while (k < max) {
    const next = words + countWords(s[k]);
    const [further, closer] = [Math.abs(next - target), Math.abs(words - target)];
    if (further > closer || (further === closer && !extendOnTie())) break;
    words = next;
    k++;
  }
  return k;
}

/** Character offset in `text` of sentence `k` of `sentences`, which `text` holds in order (asParagraphs). */
function sentenceOffset(text: string, sentences: readonly string[], k: number): number {
  let pos = 0;
  for (let i = 0; i < k; i++) pos = text.indexOf(sentences[i], pos) + sentences[i].length;
  return text.indexOf(sentences[k], pos);
}

/**
 * The passage's sentences in another order (never the same order when there are >= 2 sentences). The break is
 * the first sentence that does not follow its own predecessor (a passage may start at any sentence).
 */
function shuffle(p: string, rng: Rng): { text: string; brk: number } {
  const s = sentencesOf(p);
  const order = rng.shuffle(s.map((_, i) => i));
  if (order.every((v, i) => v === i)) order.reverse();
  const moved = order.map((i) => s[i]);
  const text = asParagraphs(moved, paragraphCount(p));
  const k = order.findIndex((v, j) => j > 0 && v !== order[j - 1] + 1);
  return { text, brk: k < 0 ? text.length : sentenceOffset(text, moved, k) };
}

/**
 * The passage's first sentences written twice, as two paragraphs (padding by copying): as many as bring the two
 * copies closest to the passage's own words (floor(n/2) sentences ran a median 20 words short, so "longer wins"
 * decided 65 % of these pairs).
 */
function repeat(p: string, rng: Rng): { text: string; brk: number } {
  const s = sentencesOf(p);
  // a tie either way, not always the shorter copy
  const k = sentencesNear(s, countWords(p) / 2, s.length - 1, () => rng.next() >= 0.5);
  const half = s.slice(0, k).join(' ');
  return { text: `${half}\n\n${half}`, brk: half.length + 2 };
}

/**
 * A cut-off pair from one passage: rejected = its sentences but the last, then the start of the last sentence (no
 * closing punctuation); chosen = the passage without that last sentence, or (half the pairs) the whole passage. So
 * the unfinished side is the longer one in half the pairs and the shorter one in the other half: this type teaches
 * "an unfinished sentence is worse", neither "shorter" nor "longer is worse" (with the rejected side always the
 * longer, "longer wins" read 0 % on cut pairs, and the RM could learn to pay short answers, against the length reward).
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
  const chosen = rng.next() < 0.5 ? asParagraphs(s.slice(0, -1), k) : asParagraphs(s, k);
  return { chosen, rejected: asParagraphs([...s.slice(0, -1), cutLast], k) };
}

/** The first half of this passage's sentences, then another document's passage from its middle on, to about the same length. */
function splice(p: string, other: string): { text: string; brk: number } {
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
  const text = asParagraphs(out, paragraphCount(p));
  return { text, brk: out.length > head.length ? sentenceOffset(text, out, head.length) : text.length };
}

/**
 * A longer passage (whole sentences) with `share` of its words removed at random, so it ends up about as long as the
 * chosen one; its last word (and the sentence end it carries) always stays, so the two sides end alike.
 */
function drop(longer: string, share: number, rng: Rng): { text: string; brk: number } {
  const paras: string[] = [];
  let brk = -1; // the offset of the first word kept after a dropped one
  let dropped = false;
  let at = 0; // length of the text so far
  const blocks = longer.split('\n\n');
  for (const [b, para] of blocks.entries()) {
    const kept: string[] = [];
    let len = at + (paras.length ? 2 : 0);
    const words = para.split(' ');
    for (const [i, w] of words.entries()) {
      const last = b === blocks.length - 1 && i === words.length - 1;
      if (!last && rng.next() < share) {
        dropped = true;
        continue;
      }
      if (kept.length) len += 1;
      if (dropped && brk < 0 && w) brk = len; // a word, not the empty string between two spaces
      kept.push(w);
      len += w.length;
    }
    const joined = kept.join(' ');
    if (joined) {
      paras.push(joined);
      at = len;
    }
  }
  const text = paras.join('\n\n');
  return { text, brk: brk < 0 ? text.length : brk };
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
    // the answers in turn, not drawn with replacement: the held-out pairs each get their own (46 pairs had used 29)
    const answer = policyAnswers[Math.floor(index / types.length) % policyAnswers.length];
    // both sides about as long: an answer past `hi` words is cut to whole sentences near hi, and the real passage is
    // sized to the answer (below `lo` too), or the RM learns length from these pairs (the chosen side was the shorter
    // one in 66 % of them) and pays GRPO's answers for being short
    const rejected = countWords(answer) > hi ? closestPrefix(answer, hi) : answer;
    if (rejected === null) return null;
    const n = countWords(rejected);
    const chosen = closestPrefix(samplePassage(docs, rng, n, n + 60), n);
    return chosen === null ? null : { type, chosen, rejected, rejectedBreak: 0 };
  }
  const chosen = wholeSentences(samplePassage(docs, rng, lo, hi));
  if (chosen === null || sentencesOf(chosen).length < 2) return null;
  switch (type) {
    case 'shuffle': {
      const r = shuffle(chosen, rng);
      return { type, chosen, rejected: r.text, rejectedBreak: r.brk };
    }
    case 'repeat': {
      const r = repeat(chosen, rng);
      return { type, chosen, rejected: r.text, rejectedBreak: r.brk };
    }
    case 'cut': {
      const r = cut(chosen, rng);
      return { type, ...r, rejectedBreak: r.rejected.length };
    }
    case 'splice': {
      const n = countWords(chosen);
      // the partner comes from another document: a splice within one document can be a seamless continuation
      const first = sentencesOf(chosen)[0];
      const others = docs.filter((d) => !d.some((x) => x.trim() === first));
      // twice the words: the second half of its sentences is what fills the rejected side (a partner of n words left
      // it a median 10 words short, and "longer wins" decided 73 % of these pairs)
      const pool = others.length ? others : docs;
      const other = samplePassage(pool, rng, 2 * n, 2 * n + 10) ?? samplePassage(pool, rng, n, n + 10);
      if (other === null) return null;
      const r = splice(chosen, other);
      return { type, chosen, rejected: r.text, rejectedBreak: r.brk };
    }
    case 'drop': {
      const n = countWords(chosen);
      const target = Math.round(n / (1 - opts.dropShare));
      const longer = closestPrefix(samplePassage(docs, rng, target, target + 60), target);
      if (longer === null) return null;
      const r = drop(longer, opts.dropShare, rng);
      return { type, chosen, rejected: r.text, rejectedBreak: r.brk };
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

export interface RuleAccuracy {
  pairs: number;
  /** "the text with more words wins" */
  longer: number;
  /** "the text whose last sentence is finished wins" */
  ending: number;
}

/**
 * Held-out accuracy per type (and `all`, pair-weighted) of two rules that read no writing quality, ties 0.5: a type
 * the RM scores no better than these is learnt through them (the train-rm report prints them beside the RM's).
 */
export type RuleBaselines = Partial<Record<Corruption | 'all', RuleAccuracy>>;

export function ruleBaselines(pairs: readonly PreferencePair[]): RuleBaselines {
  const finished = (t: string) => ENDS_FINISHED.test(t);
  const vote = (c: number, r: number) => (c > r ? 1 : c === r ? 0.5 : 0);
  const out: RuleBaselines = {};
  for (const p of pairs)
    for (const key of [p.type, 'all'] as const) {
      const a = (out[key] ??= { pairs: 0, longer: 0, ending: 0 });
      a.pairs++;
      a.longer += vote(countWords(p.chosen), countWords(p.rejected));
      a.ending += vote(Number(finished(p.chosen)), Number(finished(p.rejected)));
    }
  for (const a of Object.values(out)) {
    a.longer /= a.pairs;
    a.ending /= a.pairs;
  }
  return out;
}
