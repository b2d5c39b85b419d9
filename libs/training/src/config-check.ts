// The run directory's saved config against the resolved one: a run resumes only under the config it was
// started with. The refusal names each differing field with both values, so the user sees what changed.
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '@lwz/core';

/** Dotted paths and values of every leaf (arrays compared whole). */
function leaves(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix || '(root)', JSON.stringify(value));
  }
  return out;
}

/** "field: saved -> now" for each difference, in key order. */
export function configDifferences(saved: unknown, now: unknown): string[] {
  const a = leaves(saved, '', new Map());
  const b = leaves(now, '', new Map());
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(absent)'} -> ${b.get(k) ?? '(absent)'}`);
}

/** Throws a UserError when `path` holds a config that differs from `config` (both as JSON). */
export function checkSavedConfig(path: string, config: unknown, runDir: string): void {
  if (!existsSync(path)) return;
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read the saved config (${(e as Error).message}); fix or delete it to resume`);
  }
  const diff = configDifferences(saved, JSON.parse(JSON.stringify(config)));
  if (diff.length === 0) return;
  const shown = diff.slice(0, 8).join('; ') + (diff.length > 8 ? `; and ${diff.length - 8} more` : '');
  throw new UserError(
    `${runDir} holds a run with a different config (${path}): ${shown}. ` +
      'Resume with the same config, use another output directory, or delete the directory to start over',
  );
}
