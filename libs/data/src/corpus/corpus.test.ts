import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@lwz/core';
import { cleanText } from './clean';
import { hashString, isUserError } from '@lwz/core';
import { type CorpusDocument, assertUniqueIds, splitDocuments } from './document';
import { loadUserCorpus } from './user';
import { loadMobyDick, loadSotu } from './builtin';
import { buildCorpus, readCorpusSplit, writeCorpus } from './build';
import { documentText } from '../shards/prepare';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('cleanText', () => {
  it('normalises line endings, NFC, spaces and blank-line runs, keeping paragraphs', () => {
    const raw = '\uFEFF  Title\r\n\r\n\r\n\r\nCafe\u0301\u00A0 and\t tea.\u0007 \rNext line\n\n\n';
    expect(cleanText(raw)).toBe('Title\n\nCaf\u00e9 and tea.\nNext line');
  });

  it('strips a Gutenberg header and footer', () => {
    const raw =
      'The Project Gutenberg eBook\nlicence blah\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\nCall me.\n\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nmore licence';
    expect(cleanText(raw)).toBe('Call me.');
  });
});

describe('splitDocuments', () => {
  const docs: CorpusDocument[] = Array.from({ length: 200 }, (_, i) => ({ id: `d${i}`, title: '', source: 't', text: 'x' }));

  it('is deterministic, disjoint, complete, and near the requested fraction', () => {
    const a = splitDocuments(docs, { valFraction: 0.1, seed: 3 });
    const b = splitDocuments([...docs].reverse(), { valFraction: 0.1, seed: 3 });
    expect(a.val.map((d) => d.id).sort()).toEqual(b.val.map((d) => d.id).sort());
    expect(a.train.length + a.val.length).toBe(200);
    expect(new Set([...a.train, ...a.val].map((d) => d.id)).size).toBe(200);
    // binomial(200, 0.1): mean 20, sd ~4.2; 5 sd either side
    expect(a.val.length).toBeGreaterThan(0);
    expect(a.val.length).toBeLessThan(42);
    const c = splitDocuments(docs, { valFraction: 0.1, seed: 4 });
    expect(c.val.map((d) => d.id)).not.toEqual(a.val.map((d) => d.id));
  });

  it('keeps a document in place when others are added, and gives tiny corpora one val doc', () => {
    const a = splitDocuments(docs.slice(0, 100), { valFraction: 0.2, seed: 1 });
    const b = splitDocuments(docs, { valFraction: 0.2, seed: 1 });
    const bVal = new Set(b.val.map((d) => d.id));
    for (const d of a.val) expect(bVal.has(d.id)).toBe(true);
    const tiny = splitDocuments(docs.slice(0, 2), { valFraction: 0.01, seed: 0 });
    expect([tiny.train.length, tiny.val.length]).toEqual([1, 1]);
    // one document always trains, whatever its key (seeds chosen so its key falls in validation for some)
    for (let seed = 0; seed < 40; seed++) {
      const one = splitDocuments(docs.slice(0, 1), { valFraction: 0.5, seed });
      expect([one.train.length, one.val.length]).toEqual([1, 0]);
    }
    expect(() => splitDocuments(docs, { valFraction: 1, seed: 0 })).toThrow(/valFraction/);
  });

  it('forces the lowest key into validation and the highest into training; valFraction 0 validates nothing', () => {
    const five = docs.slice(0, 5);
    // the key, computed here as the split documents it: hash("<seed>/<id>") / 2^32
    const byKey = (seed: number) =>
      [...five].sort((a, b) => hashString(`${seed}/${a.id}`) - hashString(`${seed}/${b.id}`)).map((d) => d.id);
    for (const seed of [0, 1, 2]) {
      const keys = five.map((d) => hashString(`${seed}/${d.id}`) / 2 ** 32);
      const few = splitDocuments(five, { valFraction: Math.min(...keys) / 2, seed }); // below every key: none would validate
      expect(few.val.map((d) => d.id)).toEqual([byKey(seed)[0]]);
      const most = splitDocuments(five, { valFraction: (Math.max(...keys) + 1) / 2, seed }); // above every key: all would
      expect(most.train.map((d) => d.id)).toEqual([byKey(seed)[4]]);
    }
    expect(splitDocuments(docs, { valFraction: 0, seed: 3 }).val).toEqual([]);
  });

  it('names two documents with one id as a user error that says how to fix it', () => {
    const twice = [docs[0], { ...docs[1], id: docs[0].id, source: 'b.jsonl' }];
    let err: unknown;
    try {
      assertUniqueIds(twice);
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/duplicate document id .* give each JSONL row its own "id", and pass each file once/);
  });
});

describe('corpora', () => {
  it('reads the embedded State of the Union and Moby-Dick packages', () => {
    const sotu = loadSotu();
    expect(sotu.length).toBeGreaterThan(200);
    expect(sotu[0].id).toBe('sotu/1790-george-washington-n');
    expect(sotu[0].title).toBe('State of the Union address, 1790 (George Washington)');
    expect(sotu[0].text.startsWith('Fellow-Citizens of the Senate')).toBe(true);
    const moby = loadMobyDick();
    expect(moby.map((d) => d.id)).toContain('moby-dick/chapter-135');
    expect(moby.find((d) => d.id === 'moby-dick/chapter-1')?.title).toBe('Moby-Dick, Chapter 1: Loomings.');
    expect(moby.find((d) => d.id === 'moby-dick/chapter-1')?.text.startsWith('Call me Ishmael.')).toBe(true);
    expect(moby.some((d) => d.id === 'moby-dick/contents')).toBe(false);
    for (const d of [...sotu, ...moby]) expect(d.text).toBe(cleanText(d.text));
  });

  it("reads users' text and JSONL files", () => {
    const [note] = loadUserCorpus(fixture('note.txt'));
    expect(note.text).toBe('A plain text document.\nWith CRLF line endings.');
    expect(note.title).toBe('note');
    const rows = loadUserCorpus(fixture('corpus.jsonl'));
    expect(rows.map((r) => r.title)).toEqual(['First', '']); // an untitled row gets no title line in its text
    expect(rows.map((r) => documentText(r))).toEqual([`First\n\n${rows[0].text}`, rows[1].text]);
    expect(rows[0].text).toBe('The first document.\n\nIt has two paragraphs.');
  });

  it("keys a user's documents by their path from the folder that holds the argument, so the split ignores how it was written", () => {
    const root = mkdtempSync(join(tmpdir(), 'lwz-corpus-ids-'));
    mkdirSync(join(root, 'ec'));
    writeFileSync(join(root, 'ec', 'a.jsonl'), '{"text": "one"}\n{"id": "x", "text": "two"}\n');
    writeFileSync(join(root, 'ec', 'b.txt'), 'three');
    const ids = (p: string) => loadUserCorpus(p).map((d) => d.id);
    expect(ids(join(root, 'ec', 'a.jsonl'))).toEqual(['a.jsonl#1', 'a.jsonl#x']);
    expect(ids(join(root, 'ec', '.', 'a.jsonl'))).toEqual(['a.jsonl#1', 'a.jsonl#x']);
    expect(ids(join(root, 'ec'))).toEqual(['ec/a.jsonl#1', 'ec/a.jsonl#x', 'ec/b.txt']);
    expect(ids(join(root, 'ec') + '/')).toEqual(['ec/a.jsonl#1', 'ec/a.jsonl#x', 'ec/b.txt']);
    // a JSONL row whose bytes are not UTF-8 is refused as a .txt file is
    writeFileSync(
      join(root, 'ec', 'bad.jsonl'),
      Buffer.concat([Buffer.from('{"text": "ok"}\n{"text": "bad'), Buffer.from([0xff]), Buffer.from(' row"}\n')]),
    );
    expect(() => loadUserCorpus(join(root, 'ec', 'bad.jsonl'))).toThrow(
      /bad\.jsonl:2: not valid UTF-8 \(byte 0xFF at byte 14 of the line\)/,
    );
  });

  it('takes a corpus file of 200k documents (spread into push(), more than ~150k overflowed the call stack)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lwz-corpus-many-')), 'many.jsonl');
    writeFileSync(file, Array.from({ length: 200_000 }, (_, i) => `{"text": "Document ${i} holds one sentence."}\n`).join(''));
    const { split } = buildCorpus({ builtin: [], files: [file], valFraction: 0.05, seed: 0 });
    expect(split.train.length + split.val.length).toBe(200_000);
  });

  it('reads text that really holds U+FFFD (valid UTF-8, as scraped text often does) and refuses a Latin-1 .txt by line', () => {
    const root = mkdtempSync(join(tmpdir(), 'lwz-corpus-fffd-'));
    writeFileSync(join(root, 'scraped.txt'), 'A page whose encoding was lost: caf\uFFFD au lait.');
    writeFileSync(join(root, 'rows.jsonl'), '{"text": "r\uFFFDsum\u00e9"}\n');
    expect(loadUserCorpus(root).map((d) => d.text)).toEqual(['r\uFFFDsum\u00e9', 'A page whose encoding was lost: caf\uFFFD au lait.']);
    writeFileSync(join(root, 'latin1.txt'), Buffer.from('line one\nna\u00efve line two\n', 'latin1'));
    expect(() => loadUserCorpus(join(root, 'latin1.txt'))).toThrow(
      /latin1\.txt:2: not valid UTF-8 \(byte 0xEF at byte 3 of the line\); convert the file to UTF-8/,
    );
  });

  it('names a folder without one usable text file, says which files it takes, and does not let it pass as empty', () => {
    const root = mkdtempSync(join(tmpdir(), 'lwz-corpus-none-'));
    const takes =
      'A corpus folder takes .txt and .md files (one document each) and .jsonl files (one {"text": ...} row per document), ' +
      'in the folder or its subfolders, in any case of the extension; hidden files are skipped. Put your texts there in one of those forms';
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const build =
      (file: string, builtin: 'sotu'[] = []) =>
      () =>
        buildCorpus({ builtin, files: [file], valFraction: 0.5, seed: 0 });
    expect(build(empty)).toThrow(UserError);
    expect(build(empty)).toThrow(`${empty}: the folder has no usable text files (it is empty). ${takes}`);
    const other = join(root, 'other');
    mkdirSync(join(other, 'scans'), { recursive: true });
    writeFileSync(join(other, 'book.pdf'), '%PDF');
    writeFileSync(join(other, '.notes.txt'), 'hidden');
    writeFileSync(join(other, 'scans', 'page.png'), 'png');
    expect(build(other)).toThrow(
      `${other}: the folder has no usable text files (it holds only .notes.txt, book.pdf, scans/page.png). ${takes}`,
    );
    // beside an embedded corpus too: the folder the user named would otherwise add nothing without a word
    expect(build(other, ['sotu'])).toThrow(`${other}: the folder has no usable text files`);
    // a subfolder without text files is fine when the folder has some
    writeFileSync(join(other, 'Chapter.TXT'), 'One chapter.');
    expect(loadUserCorpus(other).map((d) => d.id)).toEqual(['other/Chapter.TXT']);
  });

  it('rejects a malformed corpus file with file:line and field, and writes no corpus', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-corpus-')), 'corpus');
    let err: unknown;
    try {
      const { split, manifest } = buildCorpus({ builtin: [], files: [fixture('corpus-bad.jsonl')], valFraction: 0.5, seed: 0 });
      writeCorpus(out, split, manifest);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/corpus-bad\.jsonl:2: field "text" must be a string, got missing$/);
    expect(existsSync(out)).toBe(false);
    expect(() => loadUserCorpus(fixture('arena-write.jsonl'))).toThrow(/arena-write\.jsonl:1: field "text" must be a string/);
  });

  it('names a .jsonl file without one row instead of adding nothing from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-corpus-'));
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n  \n');
    // it was "the corpus is empty: name at least one embedded corpus or file" alone, and nothing at all beside a builtin corpus
    expect(() => buildCorpus({ builtin: ['moby-dick'], files: [empty], valFraction: 0.05, seed: 0 })).toThrow(
      /empty\.jsonl: the file has no rows; put one \{"text": \.\.\.\} object per line, or remove it from the corpus/,
    );
  });

  it('writes and reads back a corpus directory with a manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-corpus-'));
    const extra = join(dir, 'extra.txt');
    writeFileSync(extra, 'Extra words here.');
    const out = join(dir, 'corpus');
    const { split, manifest } = buildCorpus({ builtin: [], files: [fixture('corpus.jsonl'), extra], valFraction: 0.3, seed: 0 });
    writeCorpus(out, split, manifest);
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'train.jsonl', 'val.jsonl']);
    const back = [...readCorpusSplit(out, 'train'), ...readCorpusSplit(out, 'val')];
    expect(back.map((d) => d.text).sort()).toEqual([...split.train, ...split.val].map((d) => d.text).sort());
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m.train.documents + m.val.documents).toBe(3);
    // words: "The first document. It has two paragraphs." 7 + "A second document without a title." 6 + 3
    expect(m.train.words + m.val.words).toBe(16);
  });
});
