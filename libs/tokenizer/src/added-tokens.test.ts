// Added-token matching against the Rust tokenizers (0.22.2, through its Node binding, on the Qwen3 file with these
// tokens added): the expected segments below are what its AddedVocabulary.find_matches gave. Also hyphens in
// added tokens, Split String patterns and trained specials (u-mode RegExps refuse the escape `\-`).
import { AddedTokenSplitter, type AddedTokenJson, type Segment } from './added-tokens';
import { buildPreTokenizer } from './components';
import { Tokenizer } from './tokenizer';
import { toTokenizerJson } from './tokenizer-json';
import { trainBpe } from './train-bpe';

const tok = (id: number, content: string, flags: Partial<AddedTokenJson> = {}): AddedTokenJson => ({ id, content, ...flags });
const segments = (splitter: AddedTokenSplitter, text: string, skipSpecial = false): Segment[] => {
  const out: Segment[] = [];
  splitter.split(text, out, skipSpecial);
  return out;
};

describe('AddedTokenSplitter, as Hugging Face matches added tokens', () => {
  it('drops a single_word token glued to a word and searches on after it, without trying a shorter one there', () => {
    const s = new AddedTokenSplitter([tok(1, 'qzq>', { single_word: true }), tok(2, 'zq>')]);
    expect(segments(s, 'aqzq> b')).toEqual(['aqzq> b']);
    expect(segments(s, 'a qzq> b')).toEqual(['a ', 1, ' b']);
    expect(segments(s, 'qzq>zq>')).toEqual(['qzq>', 2]);
  });

  it('takes the longest token at the leftmost match, whatever the ids (by hand: Hugging Face matches LeftmostLongest)', () => {
    const s = new AddedTokenSplitter([tok(1, 'ab'), tok(2, 'abc'), tok(3, 'bcd')]);
    expect(segments(s, 'xabcdx')).toEqual(['x', 2, 'dx']);
    expect(segments(s, 'xabx')).toEqual(['x', 1, 'x']);
  });

  it("judges single_word's neighbours with Rust's \\w: marks and ZWJ are word characters, '²' is not", () => {
    const s = new AddedTokenSplitter([tok(5, 'qzqz', { single_word: true })]);
    expect(segments(s, 'x\u0301qzqz y')).toEqual(['x\u0301qzqz y']);
    expect(segments(s, 'qzqz\u200d')).toEqual(['qzqz\u200d']);
    expect(segments(s, '\u00b2qzqz y')).toEqual(['\u00b2', 5, ' y']);
  });

  it('strips White_Space for lstrip / rstrip (U+0085 yes, U+FEFF no)', () => {
    const s = new AddedTokenSplitter([tok(3, '<lq>', { lstrip: true }), tok(4, '<rq>', { rstrip: true })]);
    expect(segments(s, 'a\u0085<lq>')).toEqual(['a', 3]);
    expect(segments(s, 'a\ufeff<lq>')).toEqual(['a\ufeff', 3]);
    expect(segments(s, 'a \u3000<lq>')).toEqual(['a', 3]);
    expect(segments(s, '<rq>\u0085b')).toEqual([4, 'b']);
    expect(segments(s, '<rq>\ufeffb')).toEqual([4, '\ufeffb']);
  });

  it('takes the leftmost token first: lstrip does not let a later token take an earlier one', () => {
    const s = new AddedTokenSplitter([tok(6, ' <kq'), tok(7, '<kqk>', { lstrip: true })]);
    expect(segments(s, 'a <kqk>')).toEqual(['a', 6, 'k>']);
  });

  it('skipSpecial drops special matches in place (encode_special_tokens): no token inside them is matched', () => {
    const s = new AddedTokenSplitter([tok(8, '<|im_x|>', { special: true }), tok(9, 'im_x')]);
    expect(segments(s, 'a<|im_x|>b')).toEqual(['a', 8, 'b']);
    expect(segments(s, 'a<|im_x|>b', true)).toEqual(['a<|im_x|>b']);
    expect(segments(s, 'im_x', true)).toEqual([9]);
  });
});

describe('hyphens', () => {
  it('loads and matches an added token with a hyphen (SantaCoder-style <fim-pad>), and trains with one', () => {
    const trained = trainBpe(['the fim-pad cat sat -- on the mat. '.repeat(10)], {
      vocabSize: 280,
      specialTokens: [
        { content: '<|endoftext|>', special: true },
        { content: '<fim-pad>', special: true },
      ],
    });
    const t = new Tokenizer(toTokenizerJson(trained), {});
    const id = t.tokenToId('<fim-pad>') as number;
    expect(t.encode('the<fim-pad>cat', { addSpecialTokens: false })).toContain(id);
    expect(t.decode(t.encode('a<fim-pad>b'))).toBe('a<fim-pad>b');
  });

  it('splits on a String pattern with a hyphen', () => {
    const pieces: string[] = [];
    buildPreTokenizer({ type: 'Split', pattern: { String: '--' }, behavior: 'Isolated' }).run('a--b', (p) => pieces.push(p));
    expect(pieces).toEqual(['a', '--', 'b']);
    const escaped: string[] = [];
    buildPreTokenizer({ type: 'Split', pattern: { Regex: '\\-+' }, behavior: 'Isolated' }).run('a--b', (p) => escaped.push(p));
    expect(escaped).toEqual(['a', '--', 'b']);
  });
});

describe('Split with a regex that matches the empty string (as the Rust tokenizers split)', () => {
  const run = (regex: string, text: string, behavior = 'Isolated'): string[] => {
    const pieces: string[] = [];
    buildPreTokenizer({ type: 'Split', pattern: { Regex: regex }, behavior }).run(text, (p) => pieces.push(p));
    return pieces;
  };

  it('cuts at every empty match but one right after a match', () => {
    expect(run('x*', 'abxxc')).toEqual(['a', 'b', 'xx', 'c']);
    expect(run('x*', 'abxxc', 'Removed')).toEqual(['a', 'b', 'c']);
    expect(run('\\s*', ' a  b')).toEqual([' ', 'a', '  ', 'b']);
  });

  it('ends on text with characters outside the BMP', () => {
    expect(run('x*', 'a\u{1F600}b')).toEqual(['a', '\u{1F600}', 'b']);
    expect(run('x*', '\u{1F600}xx\u{1F600}')).toEqual(['\u{1F600}', 'xx', '\u{1F600}']);
  });
});
