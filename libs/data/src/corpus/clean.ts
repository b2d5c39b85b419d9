// Text cleaning for corpus documents: line endings, Unicode NFC, stray control characters, runs of spaces
// and blank lines, Project Gutenberg header/footer. Keeps paragraphs (blank-line separated) and line breaks
// inside them. Not a tokenizer pre-step and not lossy beyond whitespace: words and punctuation stay as written.

const GUTENBERG_START = /^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG[^\n]*\*{3}[^\n]*$/im;
const GUTENBERG_END = /^\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG[^\n]*$/im;

/** Drop everything up to a Gutenberg START marker line and from an END marker line on (when present). */
export function stripGutenberg(text: string): string {
  let out = text;
  const start = GUTENBERG_START.exec(out);
  if (start) out = out.slice(start.index + start[0].length);
  const end = GUTENBERG_END.exec(out);
  if (end) out = out.slice(0, end.index);
  return out;
}

/**
 * Normalise a document: CRLF/CR -> LF, NFC, a leading BOM and control characters (except LF and TAB) removed,
 * tabs/no-break spaces -> spaces, runs of spaces collapsed, trailing spaces trimmed per line, 3+ newlines
 * collapsed to one blank line, leading/trailing blank lines removed.
 */
export function cleanText(text: string): string {
  let t = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  t = stripGutenberg(t).normalize('NFC');
  // C0/C1 controls except \t and \n, plus zero-width and bidi marks that only hide in plain text
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  t = t.replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B\u200E\u200F\u2060\uFEFF]/g, '');
  t = t.replace(/[\t\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, ' ');
  t = t.replace(/ {2,}/g, ' ');
  t = t
    .split('\n')
    .map((line) => line.trim())
    .join('\n');
  t = t.replace(/\n{3,}/g, '\n\n');
  return t.replace(/^\n+|\n+$/g, '');
}
