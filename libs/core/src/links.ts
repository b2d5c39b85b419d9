// Output paths that run through a symbolic link to nothing (a disk not mounted, a link to a folder since deleted):
// Node reports ENOENT on mkdir or open with no word about the link, and an atomic rename would quietly replace the
// link with a file. Every writer in atomic.ts and jsonl.ts checks its output here first and names the link instead.
// Not a resolver: a link to something that exists is left to the writers as before.
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors';

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The link in `path` (the path itself or a folder above it that does not resolve) pointing at nothing, if any. */
export function danglingLink(path: string): { link: string; target: string } | null {
  for (let p = path; !exists(p); p = dirname(p)) {
    try {
      if (lstatSync(p).isSymbolicLink()) return { link: p, target: resolve(dirname(p), readlinkSync(p)) };
    } catch {
      // nothing there at all: look at the folder above
    }
    if (dirname(p) === p) break;
  }
  return null;
}

/**
 * Throws a UserError when writing `path` would go through a symbolic link to nothing, naming the link, where it
 * points and the fixes; `forPath` is the output the user named, when `path` is a folder made for it.
 */
export function refuseDanglingLink(path: string, forPath: string = path): void {
  const found = danglingLink(path);
  if (!found) return;
  const what = found.link === forPath ? 'it' : found.link;
  throw new UserError(
    `cannot write ${forPath}: ${what} is a symbolic link to ${found.target}, which does not exist (is a disk not mounted?); point the link at an existing location, remove it, or choose another output path`,
  );
}
