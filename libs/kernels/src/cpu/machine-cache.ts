// Per-machine cache of measured native-kernel settings (the system BLAS calibration): small JSON files under
// LWZ_CACHE_DIR, else $XDG_CACHE_HOME/lwz, else ~/.cache/lwz, keyed by a fingerprint of the CPU and what was
// measured, so a copied home directory on another machine never reuses them. Written atomically; a missing,
// unreadable or stale file is simply re-measured, or, where nothing re-measures (the GEMM tuning), reported by its
// reader with the file's path. Not a general cache: one JSON value per key.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '@lwz/core';
import type { CpuDetails } from './native';

export function machineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LWZ_CACHE_DIR) return env.LWZ_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lwz');
}

/** "AuthenticAMD 25/17 AMD EPYC, L1d 32768/8, L2 1048576/8, L3 33554432/16": what blocking and speed depend on. */
export function cpuFingerprint(cpu: CpuDetails): string {
  const c = cpu.caches;
  return (
    `${cpu.vendor} ${cpu.family}/${cpu.model} ${cpu.name}, L1d ${c.l1d.bytes}/${c.l1d.ways}, ` +
    `L2 ${c.l2.bytes}/${c.l2.ways}, L3 ${c.l3.bytes}/${c.l3.ways}`
  );
}

function pathFor(kind: string, key: string, env: NodeJS.ProcessEnv): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return join(machineCacheDir(env), `${kind}-${hash}.json`);
}

/**
 * The file for (kind, key) and its value: null when absent or written for another key; with `problem` (and value
 * null) when the file is there but cannot be used (unreadable, not JSON, not a cache entry), for a caller that
 * nothing re-measures to report with the file's path.
 */
export function readMachineCacheFile<T>(
  kind: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): { path: string; value: T | null; problem?: string } {
  const path = pathFor(kind, key, env);
  if (!existsSync(path)) return { path, value: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { path, value: null, problem: code ? `cannot read it (${code})` : `invalid JSON: ${(e as Error).message}` };
  }
  const entry = parsed as { key?: unknown; value?: T } | null;
  if (typeof entry !== 'object' || entry === null || typeof entry.key !== 'string' || entry.value === undefined)
    return { path, value: null, problem: 'not a cache entry (a JSON object with "key" and "value")' };
  return { path, value: entry.key === key ? entry.value : null };
}

/** The cached value stored under (kind, key), or null when absent, unreadable or for another key. */
export function readMachineCache<T>(kind: string, key: string, env: NodeJS.ProcessEnv = process.env): T | null {
  return readMachineCacheFile<T>(kind, key, env).value;
}

/** Store `value` under (kind, key); returns the file written, or null when the directory is not writable. */
export function writeMachineCache<T>(kind: string, key: string, value: T, env: NodeJS.ProcessEnv = process.env): string | null {
  const path = pathFor(kind, key, env);
  try {
    writeJsonAtomic(path, { key, value });
    return path;
  } catch {
    return null;
  }
}
