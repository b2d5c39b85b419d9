import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from './config';
import { UserError } from './errors';
import { readJsonl } from './jsonl';
import { Rng } from './rng';
import { codePoints, decodeUtf8Strict, firstInvalidUtf8 } from './utf8';

const bytes = (...b: number[]) => Uint8Array.from(b);
const fatal = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');
const decodes = (b: Uint8Array) => {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
};

describe('firstInvalidUtf8', () => {
  it.each([
    ['ASCII', bytes(0x61, 0x62), -1],
    ['é, €, U+10348 and a real U+FFFD', new TextEncoder().encode('é€\u{10348}\uFFFD'), -1],
    ['Latin-1 é', bytes(0x61, 0xe9, 0x62), 1],
    ['a lone continuation byte', bytes(0x80), 0],
    ['overlong 2-byte NUL', bytes(0xc0, 0x80), 0],
    ['overlong 3-byte form', bytes(0x41, 0xe0, 0x80, 0x80), 1],
    ['a surrogate (CESU-8)', bytes(0xed, 0xa0, 0x80), 0],
    ['past U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), 0],
    ['0xF5', bytes(0xf5, 0x80, 0x80, 0x80), 0],
    ['a sequence cut at the end', bytes(0x61, 0xe2, 0x82), 1],
    ['a 4-byte sequence with a bad third byte', bytes(0xf0, 0x90, 0x41, 0x80), 0],
  ])('%s', (_name, b, at) => {
    expect(firstInvalidUtf8(b)).toBe(at);
  });

  it('agrees with the WHATWG decoder on random mutations of real text (1000 cases)', () => {
    // the oracle: -1 exactly when a fatal decode succeeds; otherwise the bytes before `at` decode, and a lenient decode
    // from `at` on starts with the replacement character (the sequence at `at` is bad, not a later one)
    const rng = new Rng(7);
    const base = new TextEncoder().encode('Call me Ishmael. Übermäßig 中文字 € \u{1F600} end');
    let invalid = 0;
    for (let c = 0; c < 1000; c++) {
      const b = Uint8Array.from(base.subarray(0, 1 + rng.int(base.length)));
      for (let k = rng.int(3); k > 0; k--) b[rng.int(b.length)] = rng.int(256);
      const at = firstInvalidUtf8(b);
      expect(at === -1).toBe(decodes(b));
      if (at < 0) continue;
      invalid++;
      expect(decodes(b.subarray(0, at))).toBe(true);
      expect(lenient.decode(b.subarray(at)).startsWith('\uFFFD')).toBe(true);
    }
    expect(invalid).toBeGreaterThan(200); // the mutations did reach the invalid branch
  });
});

describe('codePoints', () => {
  it('counts a character outside the BMP once, as Python does', () => {
    expect(codePoints('')).toBe(0);
    expect(codePoints('aé世😀\uFFFD')).toBe(5);
    expect(codePoints('😀'.repeat(3))).toBe([...'😀'.repeat(3)].length);
  });
});

describe('decodeUtf8Strict', () => {
  it('returns valid text unchanged, a real U+FFFD and a byte-order mark included', () => {
    const text = '\uFEFFplain \uFFFD text\nsecond line é';
    expect(decodeUtf8Strict(new TextEncoder().encode(text), 'f.txt')).toBe(text);
  });

  it('names the line and the byte of the first invalid byte and says how to convert', () => {
    const b = Buffer.concat([Buffer.from('first line\nsecond '), Buffer.from([0xe9]), Buffer.from('t\u00e9\n')]);
    expect(() => decodeUtf8Strict(b, 'notes.txt')).toThrow(UserError);
    expect(() => decodeUtf8Strict(b, 'notes.txt')).toThrow(
      'notes.txt:2: not valid UTF-8 (byte 0xE9 at byte 8 of the line); convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8` for Latin-1 text)',
    );
  });

  it('recognises a UTF-16 file by its byte-order mark', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a": 1}', 'utf16le')]);
    expect(() => decodeUtf8Strict(utf16, 'c.json')).toThrow(
      /c\.json:1: not valid UTF-8 \(byte 0xFF at byte 1 of the line\); the file starts with a UTF-16/,
    );
  });
});

describe('readers of user files are strict', () => {
  const d = mkdtempSync(join(tmpdir(), 'lwz-utf8-'));

  it('readJsonl names file:line of a row with a Latin-1 byte, and reads a row holding U+FFFD as it is', () => {
    const bad = join(d, 'bad.jsonl');
    writeFileSync(bad, Buffer.concat([Buffer.from('{"prompt": "ok"}\n{"prompt": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    expect(() => readJsonl(bad)).toThrow(`${bad}:2: not valid UTF-8 (byte 0xE9 at byte 16 of the line)`);
    const good = join(d, 'good.jsonl');
    writeFileSync(good, '{"prompt": "a \uFFFD b"}\n{"prompt": "c \\ufffd"}\n');
    expect(readJsonl(good).map((r) => r.value)).toEqual([{ prompt: 'a \uFFFD b' }, { prompt: 'c \uFFFD' }]);
  });

  it('readConfigFile refuses a config file that is not UTF-8, naming it', () => {
    const p = join(d, 'cfg.json');
    writeFileSync(p, Buffer.concat([Buffer.from('{"name": "r'), Buffer.from([0xf6]), Buffer.from('n"}')]));
    expect(() => readConfigFile(p)).toThrow(`config file ${p}:1: not valid UTF-8 (byte 0xF6 at byte 12 of the line)`);
  });
});

describe('utf8 boundaries', () => {
  it('codePoints counts U+FFFF as one character and a surrogate pair as one', () => {
    expect(codePoints('\uffffa')).toBe(2);
    expect(codePoints('\u{10000}a')).toBe(2);
  });

  it('firstInvalidUtf8: F0 must be followed by 90-BF (F0 8F BF BF would be an overlong U+FFFF)', () => {
    expect(firstInvalidUtf8(Uint8Array.of(0x61, 0xf0, 0x8f, 0xbf, 0xbf))).toBe(1);
    expect(firstInvalidUtf8(Uint8Array.of(0x61, 0xf0, 0x90, 0x80, 0x80))).toBe(-1); // U+10000
  });

  it('names a UTF-16 byte-order mark of either order, only at the start of the file', () => {
    const be = Uint8Array.of(0xfe, 0xff, 0x00, 0x41);
    expect(() => decodeUtf8Strict(be, 'f.txt')).toThrow(
      'f.txt:1: not valid UTF-8 (byte 0xFE at byte 1 of the line); the file starts with a UTF-16 byte-order mark',
    );
    const le = Uint8Array.of(0xff, 0xfe, 0x41, 0x00);
    expect(() => decodeUtf8Strict(le, 'f.txt', 3)).toThrow(
      'f.txt:3: not valid UTF-8 (byte 0xFF at byte 1 of the line); convert the file to UTF-8',
    );
  });
});
