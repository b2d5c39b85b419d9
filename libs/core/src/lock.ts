// An exclusive lock on an output that a command appends to over a long run (`sample`'s JSONL): a `<path>.lock`
// file made with O_EXCL holding the owner's pid. A second run on the same output is refused with the owner's pid
// instead of both appending the same answers; a lock left by a process that no longer exists (killed, crashed) is
// taken over. Same host only (a pid means nothing across machines sharing a file system). takeLock is the same
// lock for any subject (a training run's directory holds `run.lock`).
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir, pathKind } from './atomic';
import { UserError } from './errors';
import { refuseDanglingLink } from './links';
import { processAlive } from './pid';

/**
 * Take `<path>.lock` for this process; returns the release function (idempotent). `what` names the command in the
 * error, e.g. 'another `lwz-train sample`'.
 */
export function lockOutput(path: string, what: string): () => void {
  refuseDanglingLink(path); // before the work, not at the first append
  if (pathKind(path) === 'dir') throw new UserError(`${path} is a directory: give the path of a file`);
  ensureDir(dirname(`${path}.lock`), path); // a file in the way of a parent is named, as the writers do
  return takeLock(`${path}.lock`, path, what);
}

export interface LockOptions {
  /** a lock this process already holds is taken again (a trainer reopening its run directory after a failure in
   *  the same process, as tests do) instead of refused */
  reentrant?: boolean;
  /** what the refusal suggests pointing at instead (default 'another file') */
  elsewhere?: string;
}

/**
 * Take the lock file `lock` guarding `subject` (a file, or a run directory) for this process; returns the release
 * function (idempotent).
 */
export function takeLock(lock: string, subject: string, what: string, opts: LockOptions = {}): () => void {
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return releaser(lock);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UserError(`cannot create ${lock} (${code ?? String(e)}): is ${dirname(lock)} writable?`);
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    } catch {
      // released meanwhile: try again
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner))
      throw new UserError(
        `${subject} is being written by ${what} (pid ${owner}, ${lock}); wait for it to finish, or point the output at ${opts.elsewhere ?? 'another file'}`,
      );
    if (owner === process.pid) {
      if (opts.reentrant) return releaser(lock);
      throw new UserError(`${subject} is already open for writing in this process (${lock})`);
    }
    if (attempt >= 5) throw new UserError(`cannot take ${lock}: remove it if no other run writes ${subject}`);
    if (!Number.isInteger(owner) && attempt < 3) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // made but its pid not written yet: look again
      continue;
    }
    rmSync(lock, { force: true }); // stale: its process is gone
  }
}

function releaser(lock: string): () => void {
  let held = true;
  return () => {
    if (held) rmSync(lock, { force: true });
    held = false;
  };
}
