// Regex translation and pipeline components: Oniguruma semantics we rely on (\s as Unicode White_Space,
// case-insensitive contractions, possessive quantifiers), a warning for each approximated construct, and
// errors that name unsupported components.
import { buildNormalizer, buildPostProcessor, buildPreTokenizer, checkDecoder, GPT2_SPLIT_PATTERN } from './components';
import { translateSplitRegex } from './regex';
import { QWEN2_SPLIT_PATTERN } from './split-pattern';

const split = (pattern: string, text: string): string[] => text.match(translateSplitRegex(pattern).regex) ?? [];

describe('translateSplitRegex', () => {
  it('treats \\s as Unicode White_Space (U+0085 yes, U+FEFF no), unlike JavaScript', () => {
    expect(split('\\s+', 'a\u0085b\ufeffc')).toEqual(['\u0085']);
    expect(split('[^\\s]+', 'a\u0085b')).toEqual(['a', 'b']);
  });

  it('expands (?i:...) to ASCII case pairs, with the two letters Oniguruma folds to ASCII (long s, Kelvin sign)', () => {
    expect(split("(?i:'s|'ll)", "it'S we'Ll 's")).toEqual(["'S", "'Ll", "'s"]);
    // the Rust tokenizers split "'ſt" as "'ſ" + "t" (ſ folds to s), and take "'K" (Kelvin) as "'k"
    expect(split("(?i:'s|'t|'k)|\\p{L}+", "'ſt '\u212ax")).toEqual(["'ſ", 't', "'\u212a", 'x']);
  });

  it('keeps quantifiers after \\p{..} and drops possessive +', () => {
    expect(split('\\p{L}+', 'ab cd')).toEqual(['ab', 'cd']);
    expect(split('\\p{N}{1,3}', '12345')).toEqual(['123', '45']);
    expect(split('a++b', 'aaab')).toEqual(['aaab']);
  });

  it('returns a warning for each approximated construct, and none for exact translations', () => {
    expect(translateSplitRegex(QWEN2_SPLIT_PATTERN).warnings).toEqual([]);
    expect(translateSplitRegex(GPT2_SPLIT_PATTERN).warnings).toEqual([]);
    expect(translateSplitRegex("(?i:'s|'t)").warnings).toEqual([]);
    const { warnings } = translateSplitRegex('a++|\\p{N}{1,3}+|(?>ab)|(?i:é|[ß])');
    expect(warnings).toHaveLength(5);
    expect(warnings[0]).toMatch(/^split regex ".*": possessive quantifier \+\+ at offset 1 is translated as greedy .*may differ/);
    expect(warnings[1]).toMatch(/possessive quantifier \{1,3\}\+ at offset 9 /);
    expect(warnings[2]).toMatch(/atomic group \(\?>\.\.\.\) at offset 16 is translated as a plain group/);
    expect(warnings[3]).toMatch(/non-ASCII letter "é" inside \(\?i:\.\.\.\) at offset 27 is matched case-sensitively/);
    expect(warnings[4]).toMatch(/non-ASCII letter "ß" inside/);
  });

  it('rejects constructs it cannot map', () => {
    expect(() => translateSplitRegex('(?m:a)')).toThrow(/group \(\?m:.*not supported/);
    expect(() => translateSplitRegex('(?i:[a-z])')).toThrow(/ranges inside/);
  });
});

describe('pipeline components', () => {
  it('normalizes with Sequence[NFC, Lowercase]', () => {
    const n = buildNormalizer({ type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }] });
    expect(n('É')).toBe('e\u0301');
    // character by character, as Hugging Face does: a word-final capital sigma becomes σ, not JavaScript's ς
    const lower = buildNormalizer({ type: 'Lowercase' });
    expect(lower('ΟΔΟΣ ΣΑΣ')).toBe('οδοσ σασ');
    expect(lower('ΟΔΟΣ')).toBe(Array.from('ΟΔΟΣ', (c) => c.toLowerCase()).join(''));
  });

  it('splits Isolated and Removed', () => {
    const pieces: string[] = [];
    buildPreTokenizer({ type: 'Split', pattern: { String: ',' }, behavior: 'Removed' }).run('a,b,,c', (p) => pieces.push(p));
    expect(pieces).toEqual(['a', 'b', 'c']);
    const iso: string[] = [];
    buildPreTokenizer({ type: 'ByteLevel', add_prefix_space: true, use_regex: true }).run("hi you're", (p) => iso.push(p));
    expect(iso).toEqual([' hi', ' you', "'re"]);
  });

  it('applies TemplateProcessing (BOS) and ignores ByteLevel post-processing', () => {
    const post = buildPostProcessor({
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel' },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          special_tokens: { '<s>': { id: '<s>', ids: [7], tokens: ['<s>'] } },
        },
      ],
    });
    expect(post([1, 2])).toEqual([7, 1, 2]);
  });

  it('names unsupported components', () => {
    expect(() => buildNormalizer({ type: 'BertNormalizer' })).toThrow(/normalizer: type "BertNormalizer"/);
    expect(() => buildPreTokenizer({ type: 'Metaspace' })).toThrow(/pre_tokenizer: type "Metaspace"/);
    expect(() => buildPreTokenizer({ type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithNext' })).toThrow(/MergedWithNext/);
    expect(() => buildPostProcessor({ type: 'BertProcessing' })).toThrow(/post_processor: type "BertProcessing"/);
    expect(() => checkDecoder({ type: 'WordPiece' })).toThrow(/decoder: type "WordPiece"/);
  });
});
