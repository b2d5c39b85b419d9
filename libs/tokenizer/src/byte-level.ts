// The byte-level alphabet of GPT-2 style BPE: each of the 256 bytes is shown as one printable code point,
// so any UTF-8 text becomes a string over 256 symbols and back. Tables only; no BPE, no regex splitting.

/** BYTE_TO_CHAR[b] is the single-character string that stands for byte b in vocab strings. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** CHAR_TO_BYTE[codePoint] is the byte a vocab character stands for, or -1 (indexed up to U+0143). */
export const CHAR_TO_BYTE: Int16Array = buildCharToByte();

function buildByteToChar(): string[] {
  // Printable Latin-1 bytes stand for themselves; the remaining 68 bytes (controls, space, soft hyphen, ...)
  // are shifted in byte order to U+0100 and up, so every vocab character is visible and non-space.
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    out[b] = String.fromCharCode(printable(b) ? b : 256 + shifted++);
  }
  return out;
}

function buildCharToByte(): Int16Array {
  const table = new Int16Array(0x144).fill(-1);
  BYTE_TO_CHAR.forEach((ch, b) => {
    table[ch.charCodeAt(0)] = b;
  });
  return table;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text` written as byte-level characters (the form vocab strings use). */
export function textToByteLevel(text: string): string {
  const bytes = encoder.encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]];
  return out;
}

/** The bytes a byte-level vocab string stands for, or null when it holds a character outside the alphabet. */
export function byteLevelToBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    if (b < 0) return null;
    out[i] = b;
  }
  return out;
}
