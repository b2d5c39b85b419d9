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

const WORD_CHAR = '[\\p{L}\\p{N}_]';

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

/** Splits text on a fixed set of added tokens. */
export class AddedTokenSplitter {
  private readonly re: RegExp | null;
  private readonly groupIds: number[];

  constructor(tokens: readonly AddedTokenJson[]) {
    // Longest first, so the alternation picks the longest token at the leftmost position.
    const sorted = [...tokens].sort((a, b) => b.content.length - a.content.length || a.id - b.id);
    this.groupIds = sorted.map((t) => t.id);
    const alternatives = sorted.map((t) => {
      let body = escapeRegex(t.content);
      if (t.single_word) body = `(?<!${WORD_CHAR})${body}(?!${WORD_CHAR})`;
      if (t.lstrip) body = `\\s*${body}`;
      if (t.rstrip) body = `${body}\\s*`;
      return `(${body})`;
    });
    this.re = sorted.length ? new RegExp(alternatives.join('|'), 'gu') : null;
  }

  /** Push the segments of `text` onto `out`: strings between matches, ids for matches. */
  split(text: string, out: Segment[]): void {
    const re = this.re;
    if (re === null) {
      if (text.length) out.push(text);
      return;
    }
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m.index > last) out.push(text.slice(last, m.index));
      let g = 1;
      while (m[g] === undefined) g++;
      out.push(this.groupIds[g - 1]);
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
  }
}
