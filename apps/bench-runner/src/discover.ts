// Finding suites: every `<root>/<lib>/<suite>.bench.ts` is one suite named by its file. Listing reads only
// file names (a broken suite never stops others from running); loading imports one file and checks its
// default export against the format in benchmarks/suite.ts.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { UserError, pathKind } from '@lwz/core';
import type { BenchSuite } from './suite-format';

export interface SuiteFile {
  suite: string;
  lib: string;
  path: string;
}

const SUFFIX = '.bench.ts';

/** The repository's benchmarks/ folder (this file is apps/bench-runner/src/discover.ts). */
export function defaultBenchmarksRoot(): string {
  return fileURLToPath(new URL('../../../benchmarks', import.meta.url));
}

export function listSuites(root: string): SuiteFile[] {
  const kind = pathKind(root);
  if (kind === null) throw new UserError(`benchmarks folder ${root} does not exist; pass --dir with the folder`);
  if (kind === 'file')
    throw new UserError(`benchmarks folder ${root} is a file: pass --dir the folder holding <lib>/<suite>.bench.ts (e.g. benchmarks)`);
  const found: SuiteFile[] = [];
  for (const lib of readdirSync(root).sort()) {
    const dir = join(root, lib);
    // a file, or a link to nothing (pathKind null), is no <lib> folder
    if (pathKind(dir) !== 'dir') continue;
    for (const file of readdirSync(dir).sort()) {
      if (file.endsWith(SUFFIX)) found.push({ suite: file.slice(0, -SUFFIX.length), lib, path: resolve(dir, file) });
    }
  }
  const seen = new Map<string, string>();
  for (const f of found) {
    const other = seen.get(f.suite);
    if (other) throw new UserError(`suite name ${f.suite} is used twice: ${other} and ${f.path}; rename one file`);
    seen.set(f.suite, f.path);
  }
  return found;
}

function checkSuite(value: unknown, file: SuiteFile): BenchSuite {
  const s = value as Partial<BenchSuite> | undefined;
  const problem =
    !s || typeof s !== 'object'
      ? 'has no default export object'
      : s.suite !== file.suite
        ? `exports suite "${String(s.suite)}" but its file name says "${file.suite}"`
        : typeof s.cases !== 'function'
          ? 'has no cases(ctx) function'
          : typeof s.description !== 'string'
            ? 'has no description'
            : null;
  if (problem) throw new UserError(`${file.path} ${problem}; see benchmarks/README.md for the suite format`);
  return s as BenchSuite;
}

/** Import the suite called `name`; an unknown name fails listing the valid ones. */
export async function loadSuite(root: string, name: string): Promise<BenchSuite> {
  const suites = listSuites(root);
  const file = suites.find((s) => s.suite === name);
  if (!file) {
    const valid = suites.map((s) => s.suite).join(', ') || '(none found)';
    throw new UserError(`unknown suite "${name}" in ${root}; valid suites: ${valid}`);
  }
  const mod = (await import(pathToFileURL(file.path).href)) as { default?: unknown };
  return checkSuite(mod.default, file);
}
