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

/** "field: saved -> now" for each difference, in key order; fields under an `ignore` prefix are left out. */
export function configDifferences(saved: unknown, now: unknown, ignore: readonly string[] = []): string[] {
  const a = leaves(saved, '', new Map());
  const b = leaves(now, '', new Map());
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys
    .filter((k) => a.get(k) !== b.get(k) && !under(k, ignore))
    .map((k) => `${k}: ${a.get(k) ?? '(absent)'} -> ${b.get(k) ?? '(absent)'}`);
}

/** Fields that never change what a run computes: where it lives and what it is called. */
export const ALWAYS_MUTABLE = ['out', 'name'] as const;

const under = (key: string, prefixes: readonly string[]) => prefixes.some((p) => key === p || key.startsWith(`${p}.`));

/**
 * Throws a UserError when `path` holds a config that differs from `config` (both as JSON) in a field outside
 * `mutable` (dotted prefixes: fields that change how a run is kept or computed, never its numbers, such as
 * keepLast or model.runtime; `out` and `name` always, so a moved run directory resumes).
 */
export function checkSavedConfig(path: string, config: unknown, runDir: string, mutable: readonly string[] = []): void {
  // called only for a run with checkpoints: without its config.json a changed config would resume unnoticed
  if (!existsSync(path))
    throw new UserError(
      `${runDir} holds checkpoints but no config.json (${path}), so the config they were trained with cannot be checked: ` +
        "to resume, put the run's config.json back; to start over, use another output directory (--out)",
    );
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read the saved config (${(e as Error).message}); fix or delete it to resume`);
  }
  const diff = configDifferences(saved, JSON.parse(JSON.stringify(config)), [...ALWAYS_MUTABLE, ...mutable]);
  if (diff.length === 0) return;
  const shown = diff.slice(0, 8).join('; ') + (diff.length > 8 ? `; and ${diff.length - 8} more` : '');
  throw new UserError(
    `${runDir} holds a run with a different config (${path}): ${shown}. ` +
      'To resume it, give the same values again (the saved config.json lists them); to train with the new ones, use another output directory (--out)',
  );
}
