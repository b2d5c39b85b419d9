import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@lwz/tokenizer';
import { writeCorpus } from '../corpus/build';
import type { CorpusManifest } from '../corpus/build';
import { alignedSamples, documentText, prepareShards, tokenizerFileHash, type FormatSampleReport } from './prepare';
import { readShardIndex, readShardTokens } from './format';
import { DEFAULT_FORMAT_SAMPLES } from './format-samples';

/** GPT-2's byte -> printable-character table, written out for the test (a byte-only BPE: one id per byte). */
function byteChars(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : next++));
}

function byteTokenizer(): Tokenizer {
  const vocab: Record<string, number> = {};
  byteChars().forEach((c, b) => (vocab[c] = b));
  return new Tokenizer({
    model: { type: 'BPE', vocab, merges: [] },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    added_tokens: [
      { id: 256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
  });
}

describe('prepareShards', () => {
  it('tokenizes title + text of each document and separates documents with the eot id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-prepare-'));
    const docs = [
      { id: 'a', title: 'T1', source: 's', text: 'Hi there.' },
      { id: 'b', title: 'T2', source: 's', text: 'Caf\u00e9!' },
      { id: 'c', title: '', source: 's', text: 'Val.' },
    ];
    const manifest = {} as CorpusManifest;
    writeCorpus(join(dir, 'corpus'), { train: docs.slice(0, 2), val: docs.slice(2) }, manifest);
    const tok = byteTokenizer();
    prepareShards({
      corpusDir: join(dir, 'corpus'),
      tokenizer: tok,
      tokenizerHash: 'abc',
      outDir: join(dir, 'shards'),
      eotToken: '<|endoftext|>',
    });
    const index = readShardIndex(join(dir, 'shards'));
    expect(index).toMatchObject({ dtype: 'uint16', eotId: 256, vocabSize: 257, tokenizerHash: 'abc' });
    const train = readShardTokens(join(dir, 'shards'), 'train');
    // byte-level ids are the UTF-8 bytes themselves
    const expected = [...Buffer.from('T1\n\nHi there.'), 256, ...Buffer.from('T2\n\nCaf\u00e9!'), 256];
    expect([...train]).toEqual(expected);
    const [d0, d1] = index.splits.train.docs;
    expect(tok.decode([...train.subarray(d1.start, d1.start + d1.length)])).toBe(documentText(docs[1]));
    expect(d0).toEqual({ id: 'a', title: 'T1', start: 0, length: 13 });
    expect([...readShardTokens(join(dir, 'shards'), 'val')]).toEqual([...Buffer.from('Val.'), 256]);
  });

  it('keeps a special token spelled in a document as text: no document boundary comes from the corpus', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-prepare-'));
    const docs = [
      { id: 'a', title: '', source: 's', text: 'GPT-2 ends with <|endoftext|> here.' },
      { id: 'b', title: '', source: 's', text: 'Plain.' },
    ];
    writeCorpus(join(dir, 'corpus'), { train: docs, val: [] }, {} as CorpusManifest);
    prepareShards({
      corpusDir: join(dir, 'corpus'),
      tokenizer: byteTokenizer(),
      tokenizerHash: 'abc',
      outDir: join(dir, 'shards'),
      eotToken: '<|endoftext|>',
    });
    const train = [...readShardTokens(join(dir, 'shards'), 'train')];
    expect(train).toEqual([...Buffer.from(docs[0].text), 256, ...Buffer.from('Plain.'), 256]);
    expect(train.filter((id) => id === 256)).toHaveLength(2);
  });

  it('names the missing separator token and the tokens the tokenizer has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-prepare-'));
    writeCorpus(join(dir, 'corpus'), { train: [], val: [] }, {} as CorpusManifest);
    expect(() =>
      prepareShards({
        corpusDir: join(dir, 'corpus'),
        tokenizer: byteTokenizer(),
        tokenizerHash: 'x',
        outDir: join(dir, 's'),
        eotToken: '</s>',
      }),
    ).toThrow('the tokenizer has no token "</s>" to separate documents; its added tokens are: <|endoftext|>');
  });

  it('places every format sample whole inside one pretraining window, at about the asked share', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-prepare-'));
    const sentence = (i: number) => `The ship number ${i} sailed past the grey harbour wall at dawn while the crew sang.`;
    const long = (d: number) => Array.from({ length: 400 }, (_, i) => sentence(d * 1000 + i)).join(' ');
    const docs = [0, 1, 2].map((d) => ({ id: `d${d}`, title: `Doc ${d}`, source: 's', text: long(d) }));
    writeCorpus(join(dir, 'corpus'), { train: docs.slice(0, 2), val: docs.slice(2) }, {} as CorpusManifest);
    const window = 2048;
    const reports: FormatSampleReport[] = [];
    const prepare = (w: number, out: string) =>
      prepareShards({
        corpusDir: join(dir, 'corpus'),
        tokenizer: byteTokenizer(),
        tokenizerHash: 'abc',
        outDir: join(dir, out),
        eotToken: '<|endoftext|>',
        formatSamples: { ...DEFAULT_FORMAT_SAMPLES, window: w },
        onFormatSamples: (r) => reports.push(r),
      });
    prepare(window, 'shards');
    // the index records the window the samples were placed for (pretraining checks its seqLen against it)
    expect(readShardIndex(join(dir, 'shards')).formatWindow).toBe(window);
    const train = readShardIndex(join(dir, 'shards')).splits.train.docs;
    const samples = train.filter((d) => d.title === 'format sample');
    expect(samples.length).toBeGreaterThan(10);
    for (const d of samples) expect(Math.floor(d.start / window)).toBe(Math.floor((d.start + d.length) / window));
    const corpus = train.filter((d) => d.title.startsWith('Doc')).reduce((n, d) => n + d.length, 0);
    const formatted = samples.reduce((n, d) => n + d.length, 0);
    expect(formatted / (formatted + corpus)).toBeGreaterThan(0.15);
    expect(train.filter((d) => d.title === 'padding').every((d) => d.length < window)).toBe(true);
    // the report says what came of them: every built sample fit, at the share the index shows (eot per document included)
    const total = train.reduce((n, d) => n + d.length + 1, 0);
    expect(reports[0]).toMatchObject({ share: DEFAULT_FORMAT_SAMPLES.share, built: samples.length, kept: samples.length });
    expect(reports[0].achievedShare).toBeCloseTo((formatted + samples.length) / total, 12);
    // a window too short for any sample: built, none kept, and the report says so
    prepare(64, 'short');
    expect(reports[1].built).toBeGreaterThan(0);
    expect([reports[1].kept, reports[1].achievedShare]).toEqual([0, 0]);
    expect(readShardIndex(join(dir, 'short')).formatWindow).toBeUndefined(); // no sample kept: no window to respect
  });

  it('places samples by hand-counted positions: eot padding up to the next window before a sample that would cross it', () => {
    // window 8; a corpus of one 3-token document (+ eot) ends at 4. Hand-placed:
    //   pad 4..7 (3 eots + the padding's own eot); sample 0 (7 + eot) fills 8..15; sample 1 (3 + eot) at 16..19;
    //   sample 2 (4 + eot) would end at 25 > 24: pad 20..23, place at 24..28; sample 3 (8 + eot = 9 > 8) is left out;
    //   sample 4 (2 + eot) fits at 29..31 exactly (its eot on 31, the window's last slot)
    const samples = [7, 3, 4, 8, 2].map((n, i) => Array.from({ length: n }, () => 10 + i));
    const out = alignedSamples([{ id: 'doc', title: 'Doc', ids: [1, 2, 3] }], samples, 8, 0);
    expect(out.docs.map((d) => [d.id, d.ids.length])).toEqual([
      ['padding/0', 3],
      ['format-sample/0', 7],
      ['format-sample/1', 3],
      ['padding/3', 3],
      ['format-sample/2', 4],
      ['format-sample/4', 2],
    ]);
    expect(out.docs.filter((d) => d.title === 'padding').every((d) => Array.from(d.ids).every((id) => id === 0))).toBe(true);
    expect({ kept: out.kept, keptTokens: out.keptTokens, totalTokens: out.totalTokens }).toEqual({
      kept: 4,
      keptTokens: 8 + 4 + 5 + 3,
      totalTokens: 32,
    });
  });

  it('records the tokenizer as the first 16 hex digits of the sha256 of its file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lwz-prepare-')), 'tokenizer.json');
    writeFileSync(file, 'abc');
    expect(tokenizerFileHash(file)).toBe('ba7816bf8f01cfea'); // sha256("abc") = ba7816bf8f01cfea414140de5dae2223...
  });
});
