import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockOutput, takeLock } from './lock';

describe('lockOutput', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lwz-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds <path>.lock with its pid until released, and refuses a second taker in this process', () => {
    const out = join(dir, 'sub', 'out.jsonl');
    const release = lockOutput(out, 'another run');
    expect(readFileSync(`${out}.lock`, 'utf8').trim()).toBe(String(process.pid));
    expect(() => lockOutput(out, 'another run')).toThrow(/already open for writing in this process/);
    release();
    release(); // idempotent
    expect(existsSync(`${out}.lock`)).toBe(false);
    lockOutput(out, 'another run')();
  });

  it("refuses a lock whose process is alive, naming its pid, and takes over a dead process's", async () => {
    const out = join(dir, 'out.jsonl');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      writeFileSync(`${out}.lock`, `${child.pid}\n`);
      expect(() => lockOutput(out, 'another `lwz-train sample`')).toThrow(
        `${out} is being written by another \`lwz-train sample\` (pid ${child.pid}, ${out}.lock); wait for it to finish`,
      );
    } finally {
      child.kill();
    }
    // a pid that no longer exists: a finished child's
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${out}.lock`, `${gone.stdout}\n`);
    const release = lockOutput(out, 'another run');
    expect(readFileSync(`${out}.lock`, 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('refuses a directory as the output', () => {
    expect(() => lockOutput(dir, 'another run')).toThrow(`${dir} is a directory`);
  });
  it('takes over a lock naming no real pid (0); a reentrant taker retakes its own', () => {
    const out = join(dir, 'out.jsonl');
    writeFileSync(`${out}.lock`, '0\n');
    const release = lockOutput(out, 'another run');
    expect(readFileSync(`${out}.lock`, 'utf8').trim()).toBe(String(process.pid));
    const again = takeLock(`${out}.lock`, out, 'a trainer', { reentrant: true });
    again();
    release();
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('a second release leaves alone a lock another run took meanwhile', () => {
    const out = join(dir, 'out.jsonl');
    const release = lockOutput(out, 'another run');
    release();
    writeFileSync(`${out}.lock`, '4194304\n'); // the next owner's
    release();
    expect(readFileSync(`${out}.lock`, 'utf8')).toBe('4194304\n');
  });

  it('names a lock it cannot create and why', () => {
    const lock = join(dir, 'missing', 'run.lock');
    expect(() => takeLock(lock, dir, 'a trainer')).toThrow(`cannot create ${lock} (ENOENT): is ${join(dir, 'missing')} writable?`);
  });
});
