// Repetition measures of one answer, and the penalty the format reward multiplies by (1 - penalty): the share
// of word n-grams that repeat an earlier n-gram (loops, sentences copied to pad), and the share of the answer's
// words in paragraphs that nearly repeat an earlier paragraph (Jaccard of their word n-gram sets). Words are
// @lwz/tokenizer's splitWords (CJK characters + English words), lower-cased. Not a quality judgement: a
// refrain in a poem counts too.
import { splitWords, withoutInvisible } from '@lwz/tokenizer';

export interface RepetitionOptions {
  /** n of the word n-grams whose duplicated share is measured */
  ngram: number;
  /** n of the word n-grams each paragraph is reduced to for the paragraph overlaps */
  paragraphNgram: number;
  /** paragraphs with fewer words take no part in the paragraph overlaps (headings, list stubs) */
  minParagraphWords: number;
  /** Jaccard overlap with an earlier paragraph at which a paragraph counts as a near-duplicate */
  nearDuplicate: number;
  /** duplicated n-gram share at which the penalty starts (natural prose stays below it) */
  ngramFree: number;
  /** duplicated n-gram share at which that part of the penalty reaches 1 */
  ngramFull: number;
  /** near-duplicate paragraph share at which the penalty starts */
  paragraphFree: number;
  /** near-duplicate paragraph share at which that part of the penalty reaches 1 */
  paragraphFull: number;
}

export interface RepetitionMeasures {
  /** (n-grams - distinct n-grams) / n-grams over the whole answer, in [0, 1); 0 below n words */
  ngramDup: number;
  /** words in near-duplicate paragraphs / words of the answer, in [0, 1) */
  duplicateParagraphShare: number;
  /** the largest Jaccard overlap of two paragraphs, in [0, 1] (a measure for reports; not in the penalty) */
  maxParagraphOverlap: number;
  /** min(1, ramp(ngramDup) + ramp(duplicateParagraphShare)), in [0, 1] */
  penalty: number;
}

/** 0 at or below `free`, 1 at or above `full`, linear between. */
export function ramp(x: number, free: number, full: number): number {
  if (x <= free) return 0;
  if (x >= full) return 1;
  return (x - free) / (full - free);
}

function ngramKeys(words: readonly string[], n: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i + n <= words.length; i++) keys.push(words.slice(i, i + n).join(' '));
  return keys;
}

/** Share of the n-grams that repeat an earlier n-gram of the same sequence. */
export function duplicatedNgramShare(words: readonly string[], n: number): number {
  const keys = ngramKeys(words, n);
  if (keys.length === 0) return 0;
  return (keys.length - new Set(keys).size) / keys.length;
}

/** Paragraphs: blocks separated by blank lines; a text without blank lines is split at single newlines. */
export function splitParagraphs(text: string): string[] {
  const byBlank = text.split(/\n[ \t]*\n/);
  const blocks = byBlank.length > 1 ? byBlank : text.split('\n');
  return blocks.map((p) => p.trim()).filter((p) => p !== '');
}

/** Lines: the text split at every newline (a layout of single-newline paragraphs under one blank line). */
function splitLines(text: string): string[] {
  return text
    .split('\n')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let inter = 0;
  for (const k of small) if (large.has(k)) inter++;
  return inter / (a.size + b.size - inter);
}

export interface ParagraphOverlap {
  /** words of the paragraphs whose overlap with some earlier paragraph is >= nearDuplicate */
  duplicateWords: number;
  /** the largest overlap of any two paragraphs */
  max: number;
}

/** Pairwise Jaccard overlaps of the paragraphs' n-gram sets (paragraphs of >= minWords words only). */
export function paragraphOverlaps(paragraphWords: readonly (readonly string[])[], o: RepetitionOptions): ParagraphOverlap {
  const kept = paragraphWords.filter((w) => w.length >= Math.max(o.minParagraphWords, o.paragraphNgram));
  const sets = kept.map((w) => new Set(ngramKeys(w, o.paragraphNgram)));
  let max = 0;
  let duplicateWords = 0;
  for (let j = 1; j < sets.length; j++) {
    let best = 0;
    for (let i = 0; i < j; i++) best = Math.max(best, jaccard(sets[i], sets[j]));
    if (best >= o.nearDuplicate) duplicateWords += kept[j].length;
    max = Math.max(max, best);
  }
  return { duplicateWords, max };
}

const lowerWords = (text: string): string[] => splitWords(text).map((w) => w.toLowerCase());

/**
 * The repetition measures of one answer and the penalty they give. Invisible format characters are dropped first
 * (a zero-width space inside every third word would hide a copy from both measures). Paragraphs are taken both
 * as blank-line blocks and as lines, and the larger duplicate share counts: a title, one blank line, then
 * paragraphs on single lines is one block by blank lines, where a copied paragraph would go unseen.
 */
export function measureRepetition(text: string, o: RepetitionOptions): RepetitionMeasures {
  const answer = withoutInvisible(text);
  const words = lowerWords(answer);
  const ngramDup = duplicatedNgramShare(words, o.ngram);
  const blocks = splitParagraphs(answer);
  const lines = splitLines(answer);
  const overlaps = [blocks, ...(lines.length > blocks.length ? [lines] : [])].map((ps) => paragraphOverlaps(ps.map(lowerWords), o));
  const overlap = { duplicateWords: Math.max(...overlaps.map((v) => v.duplicateWords)), max: Math.max(...overlaps.map((v) => v.max)) };
  const duplicateParagraphShare = words.length === 0 ? 0 : overlap.duplicateWords / words.length;
  const penalty = Math.min(1, ramp(ngramDup, o.ngramFree, o.ngramFull) + ramp(duplicateParagraphShare, o.paragraphFree, o.paragraphFull));
  return { ngramDup, duplicateParagraphShare, maxParagraphOverlap: overlap.max, penalty };
}
