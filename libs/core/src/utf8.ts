// Strict UTF-8 for the text files users hand us (corpora, prompt and answer files, configs, --text-file). Node's
// 'utf8' decoding turns each invalid byte into U+FFFD without a word, so a Latin-1 or UTF-16 file would be trained,
// scored or judged as replacement characters; here it is an error naming the file, line and byte. A file that
// really holds U+FFFD (valid UTF-8, common in scraped text) is read as it is. Not a transcoder: we never guess.
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { UserError } from './errors';

/** Characters in `s` as code points (what Python's len counts; a character outside the BMP is two UTF-16 units). */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i += (s.codePointAt(i) as number) > 0xffff ? 2 : 1) n++;
  return n;
}

/**
 * The UTF-8 sequence a lead byte opens: its length and the range its second byte must fall in (the rest: 0x80-0xBF),
 * or undefined for a byte that opens none (ASCII, a continuation byte, 0xC0, 0xC1, 0xF5-0xFF).
 */
export function utf8Sequence(lead: number): { length: number; lo: number; hi: number } | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return { length: 2, lo: 0x80, hi: 0xbf };
  // 0xE0: overlong below U+0800; 0xED: surrogates
  if (lead >= 0xe0 && lead <= 0xef) return { length: 3, lo: lead === 0xe0 ? 0xa0 : 0x80, hi: lead === 0xed ? 0x9f : 0xbf };
  // 0xF0: overlong below U+10000; 0xF4: past U+10FFFF
  if (lead >= 0xf0 && lead <= 0xf4) return { length: 4, lo: lead === 0xf0 ? 0x90 : 0x80, hi: lead === 0xf4 ? 0x8f : 0xbf };
  return undefined;
}

/**
 * Offset of the first byte of `bytes` that does not start or continue a well-formed UTF-8 sequence (RFC 3629: no
 * overlong forms, no surrogates U+D800-U+DFFF, nothing past U+10FFFF), or -1 when every byte does.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const seq = utf8Sequence(b);
    if (!seq) return i; // a continuation byte with no lead, 0xC0, 0xC1 or 0xF5-0xFF
    const { length: len, lo, hi } = seq;
    if (i + 1 >= n || bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
    for (let k = 2; k < len; k++) if (i + k >= n || bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return i;
    i += len;
  }
  return -1;
}

/**
 * `bytes` as text, or a UserError `<source>:<line>: not valid UTF-8 ...` naming the first bad byte, its column (in
 * bytes) and how to convert the file. `firstLine`: the line number of the bytes' first line (a reader that decodes
 * a file line by line). A byte-order mark is kept (callers that parse drop it).
 */
export function decodeUtf8Strict(bytes: Uint8Array, source: string, firstLine = 1): string {
  const at = isUtf8(bytes) ? -1 : firstInvalidUtf8(bytes);
  if (at >= 0) {
    let line = firstLine;
    let start = 0;
    for (let i = 0; i < at; i++)
      if (bytes[i] === 0x0a) {
        line++;
        start = i + 1;
      }
    const hex = `0x${bytes[at].toString(16).toUpperCase().padStart(2, '0')}`;
    const utf16 = firstLine === 1 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
    throw new UserError(
      `${source}:${line}: not valid UTF-8 (byte ${hex} at byte ${at - start + 1} of the line)` +
        (utf16
          ? '; the file starts with a UTF-16 byte-order mark: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8`)'
          : '; convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8` for Latin-1 text)'),
    );
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** How a user's file is named when it cannot be read or decoded. */
export interface ReadFileNaming {
  /** what the messages call it (default: the path), e.g. `--text-file notes.txt` or `config file x.json` */
  label?: string;
  /** appended to "cannot read (ENOENT)", e.g. "check the path" */
  hint?: string;
}

/** The bytes of a user's file, or a UserError `<label>: cannot read (<code>)[; <hint>]`. */
export function readFileBytes(path: string, o: ReadFileNaming = {}): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(
      `${o.label ?? path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})${o.hint ? `; ${o.hint}` : ''}`,
    );
  }
}

/** A user's text file, decoded as strict UTF-8 (decodeUtf8Strict); both kinds of error name it by `label`. */
export function readTextFile(path: string, o: ReadFileNaming = {}): string {
  return decodeUtf8Strict(readFileBytes(path, o), o.label ?? path);
}
