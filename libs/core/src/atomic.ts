// Atomic file output: write to a temp file in the same directory, fsync, rename over the target, fsync the
// directory. A crash leaves either the old file or the new one, never half of one. Not a lock: two writers
// racing on one path still race (last rename wins).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}`);
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

/** Write `chunks` (strings or bytes, in order) to `path` atomically, creating parent directories. */
export function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string | Uint8Array>): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'w');
  try {
    const chunks = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    }
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
    throw e;
  }
  fsyncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replace a directory atomically: `fill(tmpDir)` writes into a fresh sibling directory, which is then renamed
 * over `dir` (the old one is removed after the swap). Used for checkpoints.
 */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = tempPathFor(dir);
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
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
