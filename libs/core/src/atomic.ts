// Atomic file output: write to a temp file in the same directory, fsync, rename over the target, fsync the
// directory. A crash leaves either the old file or the new one, never half of one. Not a lock: two writers
// racing on one path still race (last rename wins). A directory is replaced only when it holds nothing the new
// output does not replace (or only what the caller says it owns), so an output path given by mistake, such as a
// folder of the user's own files, is refused instead of deleted. The temp folders a killed directory writer left
// are removed by the next write of the same directory once their pid is gone (same host only, as lock.ts).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UserError } from './errors';
import { refuseDanglingLink } from './links';
import { processAlive } from './pid';

let counter = 0;

/**
 * A temp name no other writer uses: the pid and a counter alone repeat across containers that each run as pid 1 on
 * one shared volume (two cache writers then wrote through one temp file), so a random part is added, and files are
 * opened exclusively ('wx').
 */
function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}-${randomBytes(6).toString('hex')}`);
}

/** `<pid>-<counter>[-<random>][.old]`: what tempPathFor (older versions: without the random part) puts after `.tmp-` */
const TEMP_SUFFIX = /^(\d+)-\d+(?:-[0-9a-f]+)?(\.old)?$/;

/**
 * Remove the temp folders of `dir` that a killed writeDirAtomic left (`.<name>.tmp-<pid>-...`, and its `.old`),
 * once their process is gone: otherwise each killed run leaves a hidden copy of the output behind for good. A
 * writer killed between its two renames left the previous output in `.old` and the new one beside it, with `dir`
 * itself missing: the previous output is put back first. Best effort: a temp that cannot be removed stays.
 */
function removeStaleTemps(dir: string): void {
  const parent = dirname(dir);
  const prefix = `.${basename(dir)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return; // no parent yet: nothing left behind
  }
  const stale = names.filter((name) => {
    const m = name.startsWith(prefix) ? TEMP_SUFFIX.exec(name.slice(prefix.length)) : null;
    const pid = m ? Number(m[1]) : NaN;
    return pid > 0 && pid !== process.pid && !processAlive(pid);
  });
  if (pathKind(dir) === null) {
    const interrupted = stale.find((n) => n.endsWith('.old') && existsSync(join(parent, n.slice(0, -'.old'.length))));
    if (interrupted) {
      try {
        renameSync(join(parent, interrupted), dir);
      } catch {
        // left as it is: its temp name keeps it out of the way
      }
    }
  }
  for (const name of stale) {
    if (!existsSync(join(parent, name))) continue; // the previous output, put back above
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
    } catch {
      // not ours to force (permissions): it stays
    }
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories; the rename itself is still atomic there
  }
}

const STORAGE_FIXES: Record<string, string> = {
  ENOSPC: 'the disk is full: free space there, or choose an output on another disk',
  EDQUOT: 'the disk quota is used up: free space there, or choose an output on another disk',
  EROFS: 'the file system is read-only: choose a writable output location',
  EACCES: 'permission denied: choose an output location you can write to, or fix its permissions',
  EPERM: 'the operation is not permitted there: choose an output location you can write to',
};

/**
 * A write that failed for a reason the user fixes (a full disk, a read-only or forbidden location) as a UserError
 * naming the path and the fix, instead of a stack trace; any other error as it is.
 */
export function storageError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const fix = code === undefined ? undefined : STORAGE_FIXES[code];
  return fix ? new UserError(`cannot write ${path} (${code}): ${fix}`) : e;
}

/** What is at `path`: a directory, a file (anything else), or nothing. For checking an output path before the work. */
export function pathKind(path: string): 'file' | 'dir' | null {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/** mkdir -p of `dir`, with an error naming the path when a file is in the way (Node says EEXIST or ENOTDIR). */
export function ensureDir(dir: string, forPath: string): void {
  refuseDanglingLink(dir, forPath);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw new UserError(`cannot write ${forPath}: ${dir} (or a folder above it) is a file, not a directory; choose another output path`);
    throw storageError(e, forPath);
  }
}

/** An empty path ('' from `--out ""` or an unset shell variable) names nothing: refused before any work. */
function refuseEmptyPath(path: string): void {
  if (path === '')
    throw new UserError(
      'the output path is empty: give the file or directory to write (was --out given an empty value, such as an unset shell variable?)',
    );
}

/**
 * What writeFileAtomic(path) checks before it writes: a path given, not a link to nothing, not a directory, and not
 * ending in a slash ("out/" names a directory even before it exists: the rename onto it would fail with ENOTDIR).
 * Writes nothing. A command whose output comes after long work calls it first; `flag` prefixes the path in the
 * messages and `example` (a file name) is suggested for a path ending in a slash.
 */
export function checkFileOutput(path: string, o: { flag?: string; example?: string } = {}): void {
  refuseEmptyPath(path);
  refuseDanglingLink(path);
  const named = o.flag ? `${o.flag} ${path}` : path;
  if (pathKind(path) === 'dir') throw new UserError(`${named} is a directory: give the path of a file to write`);
  if (/[\\/]$/.test(path))
    throw new UserError(
      `${named} ends in a slash, so it names a directory: give the path of a file to write${o.example ? ` (e.g. ${path}${o.example})` : ''}`,
    );
}

/** Write `data` (a string, bytes, or chunks of either in order; strings as UTF-8) to the open `fd`, past short writes. */
export function writeChunks(fd: number, data: string | Uint8Array | Iterable<string | Uint8Array>): void {
  const chunks = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
  for (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  }
}

/** Write `chunks` (strings or bytes, in order) to `path` atomically, creating parent directories. */
export function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string | Uint8Array>): void {
  checkFileOutput(path);
  ensureDir(dirname(path), path);
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    throw storageError(e, path);
  }
  try {
    writeChunks(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw storageError(e, path);
  }
  fsyncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Refuses (UserError) to replace `dir` when it holds names other than `made` that `owns` does not claim. */
function refuseForeign(dir: string, made: ReadonlySet<string>, owns?: (name: string) => boolean): void {
  const foreign = readdirSync(dir)
    .filter((n) => !made.has(n) && !owns?.(n))
    .sort();
  if (!foreign.length) return;
  const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : '');
  throw new UserError(
    `${dir} already exists and holds ${shown}, which this output would delete: not replacing it. Choose another output directory, or move those files away first`,
  );
}

/**
 * What writeDirAtomic(dir, ..., owns) checks before it writes: a path given, not a link to nothing, not a file, and
 * (with `owns`) no file in an existing `dir` that it does not claim. A command whose output takes long to compute
 * calls it first, so a refused --out costs nothing.
 */
export function checkDirOutput(dir: string, owns?: (name: string) => boolean): void {
  refuseEmptyPath(dir);
  refuseDanglingLink(dir);
  const existing = pathKind(dir);
  if (existing === 'file')
    throw new UserError(`${dir} is a file: give the path of a directory to write (it is created, or replaced whole)`);
  if (existing === 'dir' && owns) refuseForeign(dir, new Set(), owns);
}

/**
 * Replace a directory atomically: `fill(tmpDir)` writes into a fresh sibling directory, which is then renamed
 * over `dir` (the old one is removed after the swap). Used for checkpoints and data outputs. An existing `dir` is
 * replaced only when every entry in it is one the new output also holds, or one `owns` accepts; anything else in it
 * (a folder of the user's own files, given as the output by mistake) is an error naming those entries, and nothing
 * is touched. `owns`, where given, accepts every name this writer makes in any run (a checkpoint's weights single or
 * sharded, its optional tokenizer files), so a directory holding anything else is refused before `fill` runs (a
 * model's weights are not written only to be thrown away).
 */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => void, owns?: (name: string) => boolean): void {
  checkDirOutput(dir, owns);
  removeStaleTemps(dir);
  const existing = pathKind(dir);
  ensureDir(dirname(dir), dir);
  const tmp = tempPathFor(dir);
  try {
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    if (existing === 'dir') refuseForeign(dir, new Set(readdirSync(tmp)), owns);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw storageError(e, dir);
  }
  const old = `${tmp}.old`;
  let hadOld = false;
  try {
    renameSync(dir, old);
    hadOld = true;
  } catch {
    // no previous directory
  }
  renameSync(tmp, dir);
  if (hadOld) rmSync(old, { recursive: true, force: true });
  fsyncDir(dirname(dir));
}
