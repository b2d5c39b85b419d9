// Translate the Oniguruma split patterns of tokenizer.json files into JavaScript `u`-mode RegExps: `\s` as
// Unicode White_Space (JS's `\s` differs on U+0085 and U+FEFF), `\d`/`\w` as Unicode classes, inline `(?i:...)`
// groups as explicit ASCII case pairs (plus the long s and Kelvin sign that Oniguruma folds to s and k),
// possessive quantifiers and atomic groups as ordinary ones (as @huggingface/tokenizers does). Those three are
// approximations: each one used is returned as a warning (the Tokenizer reports them once at load). Not a general
// Oniguruma engine: constructs it cannot map throw.
import { UserError } from '@lwz/core';

const WORD_CLASS_BODY = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';
const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/-');

// Oniguruma's case folding also matches the two non-ASCII letters that fold to ASCII ones: U+017F (long s) to s,
// U+212A (Kelvin sign) to k; "'ſt" splits as "'ſ" + "t" there, as in the Rust tokenizers
const EXTRA_FOLDS: Record<string, string> = { s: '\u017f', k: '\u212a' };

function caseVariants(ch: string): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  return /^[a-zA-Z]$/.test(ch) && lower !== upper ? lower + upper + (EXTRA_FOLDS[lower] ?? '') : ch;
}

function translateEscape(next: string, inClass: boolean, where: string): string {
  switch (next) {
    case 's':
      return '\\p{White_Space}';
    case 'S':
      return '\\P{White_Space}';
    case 'd':
      return '\\p{Nd}';
    case 'D':
      return '\\P{Nd}';
    case 'w':
      return inClass ? WORD_CLASS_BODY : `[${WORD_CLASS_BODY}]`;
    case 'W':
      if (inClass) throw new UserError(`${where}: \\W inside a character class is not supported`);
      return `[^${WORD_CLASS_BODY}]`;
    default:
      // JavaScript's u mode accepts \- inside a class only; outside one it is a plain hyphen
      if (next === '-' && !inClass) return '-';
      if (/[a-zA-Z0-9]/.test(next) || SYNTAX_CHARS.has(next)) return '\\' + next;
      return next;
  }
}

/** Copy a `\p{...}`/`\x{...}`-style braced escape starting at `i` (the backslash); returns [text, nextIndex]. */
function bracedEscape(pattern: string, i: number): [string, number] {
  const close = pattern.indexOf('}', i);
  if (close < 0) throw new UserError(`split regex: unterminated escape at offset ${i} in ${JSON.stringify(pattern)}`);
  const body = pattern.slice(i, close + 1);
  if (body[1] === 'x') return [`\\u{${body.slice(3, -1)}}`, close + 1];
  return [body, close + 1];
}

export interface TranslatedRegex {
  /** flags `gu` */
  regex: RegExp;
  /** one line per approximated construct (possessive quantifier, atomic group, non-ASCII letter under (?i:)) */
  warnings: string[];
}

/** A JavaScript RegExp that matches what the Oniguruma `pattern` matches in these files, and its approximations. */
export function translateSplitRegex(pattern: string): TranslatedRegex {
  const where = `split regex ${JSON.stringify(pattern)}`;
  const warnings: string[] = [];
  const approximated = (what: string, at: number, how: string): void => {
    warnings.push(`${where}: ${what} at offset ${at} ${how}; matches may differ from the Oniguruma original`);
  };
  /** a letter with case variants that the ASCII-only (?i:...) expansion leaves case-sensitive */
  const caseSensitiveLetter = (ch: string): boolean => ch.charCodeAt(0) > 0x7f && ch.toLowerCase() !== ch.toUpperCase();
  let out = '';
  let inClass = false;
  const groups: boolean[] = []; // per open group: does it turn on case-insensitivity?
  const caseless = (): boolean => groups.includes(true);
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '\\') {
      const next = pattern[i + 1];
      if ((next === 'p' || next === 'P' || next === 'x') && pattern[i + 2] === '{') {
        const [text, end] = bracedEscape(pattern, i);
        out += text;
        i = end;
        continue;
      }
      out += translateEscape(next, inClass, where);
      i += 2;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      if (ch === '-' && caseless()) throw new UserError(`${where}: ranges inside (?i:...) are not supported`);
      if (caseless() && caseSensitiveLetter(ch))
        approximated(`non-ASCII letter ${JSON.stringify(ch)} inside (?i:...)`, i, 'is matched case-sensitively');
      out += caseless() && ch !== ']' ? caseVariants(ch) : ch;
      i += 1;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (pattern[i + 1] === '^') {
        out += '^';
        i += 1;
      }
      i += 1;
      continue;
    }
    if (ch === '(') {
      if (pattern.startsWith('(?i:', i)) {
        groups.push(true);
        out += '(?:';
        i += 4;
        continue;
      }
      if (pattern.startsWith('(?>', i)) {
        approximated('atomic group (?>...)', i, 'is translated as a plain group (it backtracks)');
        groups.push(false);
        out += '(?:';
        i += 3;
        continue;
      }
      if (pattern[i + 1] === '?' && !/[:=!<]/.test(pattern[i + 2] ?? '')) {
        throw new UserError(`${where}: group ${pattern.slice(i, i + 4)}... is not supported`);
      }
      groups.push(false);
      out += ch;
      i += 1;
      continue;
    }
    if (ch === ')') {
      groups.pop();
      out += ch;
      i += 1;
      continue;
    }
    if (/[+*?]/.test(ch) || (ch === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)))) {
      const end = ch === '{' ? pattern.indexOf('}', i) + 1 : i + 1;
      const quantifier = pattern.slice(i, end);
      out += quantifier;
      if (pattern[end] === '+') {
        // possessive quantifier: treated as greedy, as @huggingface/tokenizers does
        approximated(`possessive quantifier ${quantifier}+`, i, 'is translated as greedy (it backtracks)');
        i = end + 1;
      } else i = end;
      continue;
    }
    if (caseless() && caseSensitiveLetter(ch))
      approximated(`non-ASCII letter ${JSON.stringify(ch)} inside (?i:...)`, i, 'is matched case-sensitively');
    out += caseless() ? (/[a-zA-Z]/.test(ch) ? `[${caseVariants(ch)}]` : ch) : ch;
    i += 1;
  }
  try {
    return { regex: new RegExp(out, 'gu'), warnings };
  } catch (e) {
    throw new UserError(`${where}: cannot be translated to a JavaScript RegExp (${(e as Error).message})`);
  }
}

/**
 * Escape `text` so it matches itself literally in a `u`-mode RegExp (outside a character class). Only the syntax
 * characters and `/` are escaped: u mode refuses any other escape, `\-` included ("Invalid escape").
 */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
