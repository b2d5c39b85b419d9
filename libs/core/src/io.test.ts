import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendJsonl, formatJsonl, jsonlChunks, parseJsonl, readJsonl, writeJsonl, writeJsonlPlain } from './jsonl';
import { storageError, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from './atomic';
import { UserError } from './errors';

const dir = () => mkdtempSync(join(tmpdir(), 'lwz-core-'));

describe('atomic writes', () => {
  it('writes the whole file and leaves no temp files', () => {
    const d = dir();
    const p = join(d, 'sub', 'out.txt');
    writeFileAtomic(p, ['a', new Uint8Array([98]), 'c']);
    expect(readFileSync(p, 'utf8')).toBe('abc');
    expect(readdirSync(join(d, 'sub'))).toEqual(['out.txt']);
  });

  it('keeps the old file when producing the new content fails', () => {
    const d = dir();
    const p = join(d, 'out.txt');
    writeFileSync(p, 'old');
    function* failing() {
      yield 'new part';
      throw new Error('boom');
    }
    expect(() => writeFileAtomic(p, failing())).toThrow('boom');
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['out.txt']);
  });

  it('replaces a directory whole, and keeps the old one if filling fails', () => {
    const d = dir();
    const target = join(d, 'ckpt');
    writeDirAtomic(target, (t) => writeFileSync(join(t, 'a'), '1'));
    expect(readFileSync(join(target, 'a'), 'utf8')).toBe('1');
    expect(() =>
      writeDirAtomic(target, (t) => {
        writeFileSync(join(t, 'a'), '2');
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(readFileSync(join(target, 'a'), 'utf8')).toBe('1');
    writeDirAtomic(target, (t) => writeFileSync(join(t, 'a'), '2'));
    expect(readFileSync(join(target, 'a'), 'utf8')).toBe('2');
    // 'a' is owned (a file this writer makes in some runs only): replaced by an output without it
    writeDirAtomic(
      target,
      (t) => writeFileSync(join(t, 'b'), '3'),
      (n) => n === 'a',
    );
    expect(existsSync(join(target, 'a'))).toBe(false);
    expect(readdirSync(d)).toEqual(['ckpt']);
  });

  it('refuses to replace a directory holding files the new output would delete, and names them; nothing is touched', () => {
    const d = dir();
    const mine = join(d, 'my-texts');
    writeDirAtomic(mine, (t) => writeFileSync(join(t, 'a'), '1')); // then the user adds their own files
    writeFileSync(join(mine, 'notes.txt'), 'precious');
    writeFileSync(join(mine, 'draft.md'), 'also');
    const message = `${mine} already exists and holds draft.md, notes.txt, which this output would delete: not replacing it.`;
    // without `owns`: refused once the new output shows what it holds
    expect(() => writeDirAtomic(mine, (t) => writeFileSync(join(t, 'a'), '2'))).toThrow(message);
    // with `owns` (every name the writer makes): refused before fill runs
    let filled = false;
    const owned = () =>
      writeDirAtomic(
        mine,
        (t) => {
          filled = true;
          writeFileSync(join(t, 'a'), '2');
        },
        (n) => n === 'a' || n === 'b',
      );
    expect(owned).toThrow(UserError);
    expect(owned).toThrow(message);
    expect(filled).toBe(false);
    expect(readdirSync(mine).sort()).toEqual(['a', 'draft.md', 'notes.txt']);
    expect(readFileSync(join(mine, 'a'), 'utf8')).toBe('1');
    expect(readdirSync(d)).toEqual(['my-texts']); // no temp directory left
    // an empty directory is replaced
    const empty = join(d, 'empty');
    writeDirAtomic(empty, () => undefined);
    writeDirAtomic(empty, (t) => writeFileSync(join(t, 'x'), '1'));
    expect(readdirSync(empty)).toEqual(['x']);
  });

  it('names a directory given for a file, a file given for a directory, and a file in the way of a parent', () => {
    const d = dir();
    expect(() => writeFileAtomic(d, 'x')).toThrow(`${d} is a directory: give the path of a file to write`);
    // a directory path that does not exist yet ("new/"): named, not a rename's ENOTDIR stack, and nothing made
    expect(() => writeFileAtomic(join(d, 'new') + '/', 'x')).toThrow(
      `${join(d, 'new')}/ ends in a slash, so it names a directory: give the path of a file to write`,
    );
    const f = join(d, 'f.txt');
    writeFileSync(f, 'keep');
    expect(() => writeDirAtomic(f, () => undefined)).toThrow(`${f} is a file: give the path of a directory to write`);
    expect(() => writeFileAtomic(join(f, 'inner', 'out.json'), 'x')).toThrow(
      `cannot write ${join(f, 'inner', 'out.json')}: ${join(f, 'inner')} (or a folder above it) is a file, not a directory`,
    );
    expect(readFileSync(f, 'utf8')).toBe('keep');
    expect(readdirSync(d)).toEqual(['f.txt']);
  });

  it('refuses an empty output path (an empty --out) with a message, writing nothing', () => {
    const d = dir();
    const cwd = process.cwd();
    process.chdir(d); // where a write to '' would put its temp file or directory
    try {
      const empty = /the output path is empty: give the file or directory to write/;
      expect(() => writeFileAtomic('', 'x')).toThrow(UserError);
      expect(() => writeFileAtomic('', 'x')).toThrow(empty);
      let filled = false;
      expect(() => writeDirAtomic('', () => (filled = true))).toThrow(empty);
      expect(filled).toBe(false); // refused before any work (a model's weights are not saved only to be lost)
      expect(readdirSync(d)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('turns a full disk or a forbidden location into a message naming the output and the fix, leaving nothing behind', () => {
    const d = dir();
    const out = join(d, 'ckpt');
    // what a raw write deep inside a checkpoint save throws when the disk fills
    const full = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const err = (() => {
      try {
        writeDirAtomic(out, full);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `cannot write ${out} (ENOSPC): the disk is full: free space there, or choose an output on another disk`,
    );
    expect(readdirSync(d)).toEqual([]); // the temp directory went
    expect(storageError(Object.assign(new Error('x'), { code: 'EROFS' }), '/o')).toEqual(
      new UserError('cannot write /o (EROFS): the file system is read-only: choose a writable output location'),
    );
    const other = Object.assign(new Error('EIO'), { code: 'EIO' });
    expect(storageError(other, '/o')).toBe(other); // not the user's to fix: as it is
  });
});

describe('jsonl', () => {
  it('round-trips records and skips blank lines, with line numbers', () => {
    const p = join(dir(), 'x.jsonl');
    writeJsonl(p, [{ a: 1 }, { a: 2 }]);
    writeFileSync(p, readFileSync(p, 'utf8') + '\n\n{"a":3}\n');
    expect(readJsonl(p)).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 2, value: { a: 2 } },
      { line: 5, value: { a: 3 } },
    ]);
  });

  it('names file:line on invalid JSON and on a failed validation', () => {
    const p = join(dir(), 'bad.jsonl');
    writeFileSync(p, '{"prompt":"x"}\n{"prompt": oops}\n');
    expect(() => readJsonl(p)).toThrow(UserError);
    expect(() => readJsonl(p)).toThrow(`${p}:2: invalid JSON`);
    writeFileSync(p, '{"prompt":"x"}\n{"prompt":3}\n');
    const validate = (v: unknown) => {
      const row = v as { prompt: unknown };
      if (typeof row.prompt !== 'string') throw new Error('field "prompt" must be a string');
      return row;
    };
    expect(() => readJsonl(p, validate)).toThrow(`${p}:2: field "prompt" must be a string`);
  });

  it('reads line by line as parseJsonl does (same rows, same line numbers), with no final newline too', () => {
    const text = '{"a": 1}\r\n\n  \n{"b": "\u00e9\\n"}\n{"c": [1, 2]}';
    const p = join(dir(), 'lines.jsonl');
    writeFileSync(p, text);
    expect(readJsonl(p)).toEqual(parseJsonl(text, p));
    expect(readJsonl(p).map((r) => r.line)).toEqual([1, 4, 5]);
  });

  it('writes in pieces of whole lines (jsonlChunks) that join to formatJsonl, and writeJsonlPlain writes them all', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ i, text: 'w'.repeat(i * 7) }));
    const lines = rows.map((r) => JSON.stringify(r) + '\n').join('');
    const chunks = [...jsonlChunks(rows, 500)];
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((c) => c.endsWith('\n'))).toBe(true);
    expect(chunks.join('')).toBe(lines);
    expect(formatJsonl(rows)).toBe(lines);
    const p = join(dir(), 'plain.jsonl');
    writeJsonlPlain(p, rows);
    expect(readFileSync(p, 'utf8')).toBe(lines);
  });

  it('reads a file that starts with a byte-order mark and has CRLF line ends', () => {
    const p = join(dir(), 'bom.jsonl');
    writeFileSync(p, '\uFEFF{"text": "hello"}\r\n{"text": "again"}\r\n');
    expect(readJsonl(p).map((r) => r.value)).toEqual([{ text: 'hello' }, { text: 'again' }]);
  });

  it('says which file could not be read', () => {
    expect(() => readJsonl('/nonexistent/file.jsonl')).toThrow('/nonexistent/file.jsonl: cannot read (ENOENT)');
  });

  it('appends one line per record', () => {
    const p = join(dir(), 'm', 'metrics.jsonl');
    appendJsonl(p, { step: 1 });
    appendJsonl(p, { step: 2 });
    expect(readJsonl(p).map((r) => r.value)).toEqual([{ step: 1 }, { step: 2 }]);
  });
});

describe('jsonl error snippets', () => {
  it('quotes the first 60 characters of a bad line, then "..."', () => {
    const line = `{"a": ${'1'.repeat(80)}`;
    expect(() => parseJsonl(line, 'x.jsonl')).toThrow(`x.jsonl:1: invalid JSON`);
    expect(() => parseJsonl(line, 'x.jsonl')).toThrow(`in ${JSON.stringify(`${line.slice(0, 60)}...`)}; each line must be one JSON object`);
  });
});

describe('writeDirAtomic refusals and writeJsonAtomic layout', () => {
  it('refuses a directory holding hidden files too, listing five names then how many more', () => {
    const out = join(dir(), 'out');
    mkdirSync(out);
    writeFileSync(join(out, '.git'), 'mine');
    const write = () => writeDirAtomic(out, (t) => writeFileSync(join(t, 'a'), '1'));
    expect(write).toThrow(`${out} already exists and holds .git, which this output would delete`);
    for (const n of ['b', 'c', 'd', 'e', 'f', 'g']) writeFileSync(join(out, n), 'mine');
    expect(write).toThrow('holds .git, b, c, d, e and 2 more, which');
    expect(readdirSync(out).length).toBe(7);
  });

  it('writeJsonAtomic writes JSON indented by two spaces, ending in a newline', () => {
    const p = join(dir(), 'x.json');
    writeJsonAtomic(p, { a: 1, b: [2] });
    expect(readFileSync(p, 'utf8')).toBe('{\n  "a": 1,\n  "b": [\n    2\n  ]\n}\n');
  });
});
