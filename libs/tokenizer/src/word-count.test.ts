// countWords against hand-counted texts and against an independent run-based reference on random strings: an
// English word is a maximal run of word characters (letters/digits/_ of any script) made only of ASCII letters.
import { Rng } from '@lwz/core';
import { countWords, splitWords, withoutInvisible } from './word-count';

function referenceCount(text: string): number {
  let cjk = 0;
  let words = 0;
  const runs = text.split(/[^\p{L}\p{N}_]+/u);
  for (const ch of text) if (ch >= '\u4e00' && ch <= '\u9fff') cjk++;
  for (const run of runs) if (run.length > 0 && /^[a-zA-Z]+$/.test(run)) words++;
  return cjk + words;
}

describe('countWords (LongBench-Write convention)', () => {
  it.each([
    ['', 0],
    ['Hello, world!', 2],
    ["don't stop", 3],
    ['abc123 def_ghi x', 1],
    ['我爱北京天安门', 7],
    ['中文abc 中文 abc', 5],
    ['GPT-4 is here.', 3],
    ['e\u0301te\u0301 café', 2],
    ['ＡＢＣ full-width', 2],
  ])('%j has %d words', (text, expected) => {
    expect(countWords(text)).toBe(expected);
  });

  it('counts exactly U+4E00..U+9FFF as CJK words: both ends in, Extension A, compatibility ideographs and kana out', () => {
    // 一 U+4E00, U+9FA6 and U+9FFF (past the old U+9FA5 end of the block) count; 㐀 U+3400 and U+4DBF (Extension A),
    // 豈 U+F900 (compatibility), ひら (kana) and U+3000 (ideographic space) do not, as LongBench-Write's [\u4e00-\u9fff]
    const text = '\u4e00\u9fa6\u9fff\u3400\u4dbf\uf900ひら\u3000';
    expect(countWords(text)).toBe(3);
    expect(splitWords(text)).toEqual(['\u4e00', '\u9fa6', '\u9fff']);
  });

  it('agrees with the run-based reference on random mixed-script text', () => {
    const rng = new Rng(1);
    const alphabet = ['a', 'Z', 'q', ' ', '\n', '_', '1', '中', '文', 'é', '\u0301', '-', "'", 'ж', '.', '９'];
    for (let k = 0; k < 500; k++) {
      const text = Array.from({ length: 1 + rng.int(40) }, () => alphabet[rng.int(alphabet.length)]).join('');
      expect({ text, n: countWords(text) }).toEqual({ text, n: referenceCount(text) });
    }
  });
});

describe('splitWords', () => {
  it('lists the counted words in text order', () => {
    expect(splitWords("中文abc 中文 abc, don't GPT-4 x1")).toEqual(['中', '文', '中', '文', 'abc', 'don', 't', 'GPT']);
    expect(splitWords('')).toEqual([]);
  });

  it('has countWords words on random mixed-script text', () => {
    const rng = new Rng(2);
    const alphabet = ['a', 'Z', 'q', ' ', '\n', '_', '1', '中', '文', 'é', '\u0301', '-', "'", 'ж', '.', '９'];
    for (let k = 0; k < 500; k++) {
      const text = Array.from({ length: 1 + rng.int(40) }, () => alphabet[rng.int(alphabet.length)]).join('');
      expect({ text, n: splitWords(text).length }).toEqual({ text, n: countWords(text) });
    }
  });
});

describe('withoutInvisible', () => {
  it('drops zero-width spaces and joiners, soft hyphens, BOMs and direction marks, and nothing else', () => {
    const hidden = 'hel\u200blo wo\u00adrld \ufeffsea\u200d \u200eship 中\u200b文';
    expect(countWords(hidden)).toBe(8); // LongBench-Write's count splits at each of them
    expect(withoutInvisible(hidden)).toBe('hello world sea ship 中文');
    expect(countWords(withoutInvisible(hidden))).toBe(6);
    const visible = 'Tabs\tnew\nlines, café, 🙂 and ∑ stay.';
    expect(withoutInvisible(visible)).toBe(visible);
  });
});
