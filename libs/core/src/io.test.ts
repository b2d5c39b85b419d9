import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendJsonl, readJsonl, writeJsonl } from './jsonl';
import { writeDirAtomic, writeFileAtomic } from './atomic';
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
    writeDirAtomic(target, (t) => writeFileSync(join(t, 'b'), '3'));
    expect(existsSync(join(target, 'a'))).toBe(false);
    expect(readdirSync(d)).toEqual(['ckpt']);
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
