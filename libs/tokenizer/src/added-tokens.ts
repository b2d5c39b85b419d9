// Added tokens (special and not): matched in the text before any BPE, leftmost-longest, with the lstrip /
// rstrip / single_word options of tokenizer.json. Tokens marked `normalized` are matched in normalized text,
// the others in the raw text, as Hugging Face does. Not the BPE vocab (bpe.ts).
import { UserError } from '@lwz/core';
import { escapeRegex } from './regex';

export interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
  normalized?: boolean;
}

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
}

/** A piece of text: a string still to be tokenized, or the id of a matched added token. */
export type Segment = string | number;

// What Hugging Face tests around a match with Rust regex's Unicode classes: `\w` for single_word's neighbours
// (letters, marks, decimal digits, connector punctuation, ZWJ/ZWNJ; not `\p{N}` such as '²'), `\s` (White_Space:
// U+0085 yes, U+FEFF no, unlike JavaScript's `\s`) for the whitespace lstrip and rstrip take in
const WORD_CHAR = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const SPACE_CHAR = /^\p{White_Space}$/u;

/** The code point that ends just before `i` ('' at the start). */
function charBefore(text: string, i: number): string {
  if (i <= 0) return '';
  const c = text.charCodeAt(i - 1);
  return i >= 2 && c >= 0xdc00 && c <= 0xdfff && (text.charCodeAt(i - 2) & 0xfc00) === 0xd800 ? text.slice(i - 2, i) : text[i - 1];
}

/** The code point that starts at `i` ('' at the end). */
function charAt(text: string, i: number): string {
  const cp = text.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

export function parseAddedTokens(list: unknown): { tokens: AddedToken[]; raw: AddedTokenJson[] } {
  if (list === undefined || list === null) return { tokens: [], raw: [] };
  if (!Array.isArray(list)) throw new UserError('tokenizer.json added_tokens: expected an array');
  const raw = list.map((t: AddedTokenJson, i) => {
    if (typeof t?.id !== 'number' || typeof t.content !== 'string' || t.content.length === 0) {
      throw new UserError(`tokenizer.json added_tokens[${i}]: needs a numeric id and a non-empty content`);
    }
    return t;
  });
  const tokens = raw.map((t) => ({ id: t.id, content: t.content, special: t.special === true, normalized: t.normalized === true }));
  return { tokens, raw };
}

/**
 * Splits text on a fixed set of added tokens, as Hugging Face's AddedVocabulary.find_matches does: the
 * leftmost-longest token is found (non-overlapping, the search resuming after each one); a single_word token with
 * a word character beside it, or a special token when `skipSpecial` is set, is dropped there, and the search goes on
 * after it (no shorter or overlapping token is tried in its place); lstrip takes in the whitespace before the token
 * (never what an earlier token took), rstrip the whitespace after it.
 */
export class AddedTokenSplitter {
  private readonly re: RegExp | null;
  private readonly byContent = new Map<string, AddedTokenJson>();

  constructor(tokens: readonly AddedTokenJson[]) {
    // Longest first, so the alternation picks the longest token at the leftmost position.
    const sorted = [...tokens].sort((a, b) => b.content.length - a.content.length || a.id - b.id);
    for (const t of sorted) if (!this.byContent.has(t.content)) this.byContent.set(t.content, t);
    this.re = sorted.length ? new RegExp(sorted.map((t) => escapeRegex(t.content)).join('|'), 'gu') : null;
  }

  /**
   * Push the segments of `text` onto `out`: strings between matches, ids for matches. `skipSpecial`: tokens marked
   * special are not matched (Hugging Face's encode_special_tokens).
   */
  split(text: string, out: Segment[], skipSpecial = false): void {
    const re = this.re;
    if (re === null) {
      if (text.length) out.push(text);
      return;
    }
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      // re.lastIndex is now the match's end, where the search resumes whatever is done with this match
      const t = this.byContent.get(m[0]) as AddedTokenJson;
      let start = m.index;
      let stop = start + m[0].length;
      if (skipSpecial && t.special) continue;
      if (t.single_word && (WORD_CHAR.test(charBefore(text, start)) || WORD_CHAR.test(charAt(text, stop)))) continue;
      if (t.lstrip) {
        for (let c = charBefore(text, start); start > last && SPACE_CHAR.test(c); c = charBefore(text, start)) start -= c.length;
      }
      if (t.rstrip) {
        for (let c = charAt(text, stop); SPACE_CHAR.test(c); c = charAt(text, stop)) stop += c.length;
      }
      if (start > last) out.push(text.slice(last, start));
      out.push(t.id);
      last = stop;
    }
    if (last < text.length) out.push(text.slice(last));
  }
}
