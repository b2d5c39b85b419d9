// What a killed directory writer leaves (atomic.ts): its hidden `.<out>.tmp-<pid>-...` folder is removed by the next
// write of the same output once that pid is gone; a live writer's, another output's and the user's own files stay;
// a writer killed between its two renames gets the previous output put back, so nothing written before is lost.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDirAtomic } from './atomic';

let d: string;
beforeEach(() => {
  d = mkdtempSync(join(tmpdir(), 'lwz-stale-'));
});
afterEach(() => rmSync(d, { recursive: true, force: true }));

/** The pid of a process that has exited (what a killed writer's temp name carries). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

const folder = (path: string, file: string, text: string) => {
  mkdirSync(path);
  writeFileSync(join(path, file), text);
};

describe('temp folders a killed writeDirAtomic left', () => {
  it('are removed by the next write of the same output, once their process is gone', async () => {
    const out = join(d, 'corpus');
    const atomic = fileURLToPath(new URL('./atomic.ts', import.meta.url));
    const script = `import(${JSON.stringify(atomic)}).then(({ writeDirAtomic }) => writeDirAtomic(${JSON.stringify(out)}, (tmp) => {
      require('node:fs').writeFileSync(tmp + '/train.jsonl', 'half');
      process.stdout.write('filling\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
    }))`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const left = readdirSync(d);
    expect(left).toEqual([expect.stringMatching(new RegExp(`^\\.corpus\\.tmp-${child.pid}-1-[0-9a-f]{12}$`))]);

    writeDirAtomic(out, (tmp) => writeFileSync(join(tmp, 'train.jsonl'), 'whole'));
    expect(readdirSync(d)).toEqual(['corpus']);
    expect(readFileSync(join(out, 'train.jsonl'), 'utf8')).toBe('whole');
  }, 30000);

  it("keeps a live writer's temp, another output's and the user's own files", () => {
    const dead = deadPid();
    const keep = [
      `.corpus.tmp-${process.ppid}-1-0123456789ab`, // its writer is alive
      `.corpus-2.tmp-${dead}-1-0123456789ab`, // another output's
      `.corpus.tmp-notes`, // not a name writeDirAtomic makes
      `.corpus.tmp-${dead}-1-notes.txt`, // nor these: a writer's pid and counter, then something else
      `.corpus.tmp-${dead}-1-0123456789ab.bak`,
    ];
    for (const name of keep) folder(join(d, name), 'a', '1');
    folder(join(d, `.corpus.tmp-${dead}-3-0123456789ab.old`), 'a', '1'); // swap done, removal killed
    folder(join(d, `.corpus.tmp-${dead}-7`), 'a', '1'); // an older version's name
    writeDirAtomic(join(d, 'corpus'), (tmp) => writeFileSync(join(tmp, 'a'), '2'));
    expect(readdirSync(d).sort()).toEqual(['corpus', ...keep].sort());
  });

  it('puts the previous output back when the writer was killed between its two renames', () => {
    const dead = deadPid();
    const tmp = join(d, `.corpus.tmp-${dead}-1-0123456789ab`);
    folder(tmp, 'train.jsonl', 'new'); // the killed run's complete output, not yet renamed
    folder(`${tmp}.old`, 'train.jsonl', 'previous'); // the output before it, renamed out of the way
    expect(() =>
      writeDirAtomic(join(d, 'corpus'), () => {
        throw new Error('this run fails too');
      }),
    ).toThrow('this run fails too');
    expect(readdirSync(d)).toEqual(['corpus']);
    expect(readFileSync(join(d, 'corpus', 'train.jsonl'), 'utf8')).toBe('previous');
  });
});
