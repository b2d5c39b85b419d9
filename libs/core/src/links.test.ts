// An output path through a symbolic link to nothing (links.ts): every writer (atomic file and directory, JSONL
// append, mkdir -p, the output lock) refuses it with a UserError naming the link and where it points, instead of
// an ENOENT stack trace or a rename that quietly replaces the link; nothing is written and the link stays.
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir, writeDirAtomic, writeFileAtomic } from './atomic';
import { UserError } from './errors';
import { appendJsonl } from './jsonl';
import { danglingLink } from './links';
import { lockOutput } from './lock';

let d: string;
beforeEach(() => {
  d = mkdtempSync(join(tmpdir(), 'lwz-links-'));
});
afterEach(() => rmSync(d, { recursive: true, force: true }));

const fix =
  'which does not exist (is a disk not mounted?); point the link at an existing location, remove it, or choose another output path';

describe('an output path through a symbolic link to nothing', () => {
  it('is refused by every writer, naming the link and its target; nothing is written and the link stays', () => {
    const out = join(d, 'out.jsonl');
    const target = join(d, 'gone', 'x.jsonl');
    symlinkSync(target, out);
    const message = `cannot write ${out}: it is a symbolic link to ${target}, ${fix}`;
    const writers: [string, () => unknown][] = [
      ['writeFileAtomic', () => writeFileAtomic(out, 'x')],
      ['writeDirAtomic', () => writeDirAtomic(out, (t) => writeFileSync(join(t, 'a'), '1'))],
      ['appendJsonl', () => appendJsonl(out, { a: 1 })],
      ['ensureDir', () => ensureDir(out, out)],
      ['lockOutput', () => lockOutput(out, 'another run')],
    ];
    for (const [name, write] of writers) {
      let err: unknown;
      try {
        write();
      } catch (e) {
        err = e;
      }
      expect([name, err]).toEqual([name, new UserError(message)]);
      expect(err).toBeInstanceOf(UserError);
    }
    expect(readdirSync(d)).toEqual(['out.jsonl']);
    expect(readlinkSync(out)).toBe(target);
  });

  it('names a folder above the output that is such a link', () => {
    mkdirSync(join(d, 'runs'));
    const link = join(d, 'runs', 'disk');
    symlinkSync('/nonexistent/lwz-disk', link);
    const out = join(link, 'eval', 'results.json');
    expect(() => writeFileAtomic(out, '{}')).toThrow(`cannot write ${out}: ${link} is a symbolic link to /nonexistent/lwz-disk, ${fix}`);
    expect(() => writeDirAtomic(join(link, 'ckpt'), () => undefined)).toThrow(`${link} is a symbolic link to /nonexistent/lwz-disk`);
    expect(danglingLink(join(d, 'runs', 'other', 'x'))).toBeNull(); // simply missing: the writers make it
  });

  it('leaves links to something that exists to the writers', () => {
    mkdirSync(join(d, 'real'));
    symlinkSync(join(d, 'real'), join(d, 'linked'));
    writeFileAtomic(join(d, 'linked', 'a.txt'), 'x');
    expect(readdirSync(join(d, 'real'))).toEqual(['a.txt']);
    expect(danglingLink(join(d, 'linked', 'b', 'c'))).toBeNull();
  });
});
