// Word counting with the LongBench-Write convention: CJK ideographs U+4E00..U+9FFF each count as one word,
// plus English words `[a-zA-Z]+` between word boundaries, where (as in Python's Unicode `\b`) letters, digits
// and `_` of any script are word characters: "abc123" and "中文abc" add no English word. The one counter that
// rewards and eval share, and the same words in text order (splitWords) for n-gram statistics; not a
// general-purpose word splitter.

const CJK = /[\u4e00-\u9fff]/g;
const ENGLISH_WORD = /(?<![\p{L}\p{N}_])[a-zA-Z]+(?![\p{L}\p{N}_])/gu;
// CJK characters and English words never overlap, so one alternation finds exactly the words counted above
const ANY_WORD = /[\u4e00-\u9fff]|(?<![\p{L}\p{N}_])[a-zA-Z]+(?![\p{L}\p{N}_])/gu;

export function countWords(text: string): number {
  let n = 0;
  CJK.lastIndex = 0;
  while (CJK.exec(text) !== null) n++;
  ENGLISH_WORD.lastIndex = 0;
  while (ENGLISH_WORD.exec(text) !== null) n++;
  return n;
}

/** The words countWords counts, in text order, as written (no case folding): `countWords(t) === splitWords(t).length`. */
export function splitWords(text: string): string[] {
  return text.match(ANY_WORD) ?? [];
}

const INVISIBLE = /\p{Cf}/gu;

/**
 * The text without invisible format characters (Unicode Cf: zero-width spaces and joiners, soft hyphens,
 * byte-order marks, direction marks): what the rewards count and compare, so that a policy cannot split one word
 * into two, or hide a copied paragraph, with characters no reader sees. countWords itself follows LongBench-Write,
 * which counts "hel\u200blo" as two words.
 */
export function withoutInvisible(text: string): string {
  return text.replace(INVISIBLE, '');
}
