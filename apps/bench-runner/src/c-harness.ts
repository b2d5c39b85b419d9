// C-harness baselines (e.g. OpenBLAS): find the system header and library, compile the suite's harness into
// a temp dir with the system C compiler, run it with the same thread count, parse its JSON lines. The
// library is a benchmark-only comparison, never a project dependency: when it is missing we say how to
// install it (a MissingLibraryError: the run stops, or in smoke mode runs our side alone), we never download.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@lwz/core';
import type { CHarnessBaseline } from './suite-format';

export interface CompiledHarness {
  binary: string;
  command: string;
  cleanup(): void;
}

function multiarch(cc: string): string | null {
  try {
    return execFileSync(cc, ['-print-multiarch'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** Include and library folders searched, most specific first (an explicit env override wins). */
export function searchDirs(library: string, arch: string | null, env: NodeJS.ProcessEnv): { include: string[]; lib: string[] } {
  const up = library.toUpperCase();
  const include = [env[`${up}_INCLUDE`], '/usr/include', arch && `/usr/include/${arch}`, `/usr/include/${library}`];
  include.push(arch && `/usr/include/${arch}/${library}-pthread`, '/usr/local/include', `/opt/${library}/include`);
  const lib = [env[`${up}_LIB`], arch && `/usr/lib/${arch}`, '/usr/lib64', '/usr/lib', '/usr/local/lib', `/opt/${library}/lib`];
  return { include: include.filter((d): d is string => !!d), lib: lib.filter((d): d is string => !!d) };
}

/** The first folder holding `file`, or null. */
export function findIn(dirs: readonly string[], files: readonly string[]): string | null {
  for (const d of dirs) for (const f of files) if (existsSync(join(d, f))) return d;
  return null;
}

/** A baseline's system library or header is not installed (the message says how to install it). */
export class MissingLibraryError extends UserError {}

/** Compile the harness; a missing header/library is a MissingLibraryError naming what to install. */
export function compileHarness(name: string, b: CHarnessBaseline, env: NodeJS.ProcessEnv = process.env): CompiledHarness {
  const cc = env.CC ?? 'cc';
  const dirs = searchDirs(b.library, multiarch(cc), env);
  const inc = findIn(dirs.include, [b.header]);
  const lib = findIn(dirs.lib, [`lib${b.library}.so`, `lib${b.library}.a`, `lib${b.library}.dylib`]);
  if (!inc || !lib) {
    const missing = [
      !inc && `${b.header} (looked in ${dirs.include.join(', ')})`,
      !lib && `lib${b.library} (looked in ${dirs.lib.join(', ')})`,
    ];
    throw new MissingLibraryError(
      `--baseline ${name} needs ${missing.filter(Boolean).join(' and ')}; install it with: ${b.install} ` +
        `(a benchmark-only comparison, not a project dependency), or set ${b.library.toUpperCase()}_INCLUDE / _LIB`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), `lwz-bench-${name}-`));
  const binary = join(dir, 'harness');
  const args = ['-O2', '-o', binary, b.source, `-I${inc}`, `-L${lib}`, `-Wl,-rpath,${lib}`, `-l${b.library}`, '-lm'];
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
    throw new UserError(`--baseline ${name}: compiling ${b.source} failed (${cc} ${args.join(' ')}):\n${stderr}`);
  }
  return { binary, command: `${cc} ${args.join(' ')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface HarnessOutput {
  info: string | null;
  /** median ms per spec, in the order given */
  medians: number[];
}

/** Parse the harness's JSON lines (protocol in benchmarks/suite.ts); the specs must come back in order. */
export function parseHarnessOutput(stdout: string, specs: readonly string[]): HarnessOutput {
  let info: string | null = null;
  const medians: number[] = [];
  for (const line of stdout.split('\n').filter((l) => l.trim())) {
    const row = JSON.parse(line) as { info?: string; spec?: string; median_ms?: number };
    if (typeof row.info === 'string') info = row.info;
    else {
      const want = specs[medians.length];
      if (row.spec !== want || typeof row.median_ms !== 'number') {
        throw new Error(`harness answered ${line} where ${want} with a median_ms was expected`);
      }
      medians.push(row.median_ms);
    }
  }
  if (medians.length !== specs.length) throw new Error(`harness returned ${medians.length} of ${specs.length} results`);
  return { info, medians };
}

/** Run the compiled harness on `specs` with the given iteration counts and thread count. */
export function runHarness(
  h: CompiledHarness,
  b: CHarnessBaseline,
  specs: readonly string[],
  o: { iterations: number; warmup: number; threads: number },
): HarnessOutput {
  const env = { ...process.env };
  if (b.threadsEnv) env[b.threadsEnv] = String(o.threads);
  const stdout = execFileSync(h.binary, [String(o.iterations), String(o.warmup), ...specs], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  return parseHarnessOutput(stdout, specs);
}
