// Typed configs: a zod schema with documented defaults, validated in one place. Errors name the field
// (`optim.lr`), say what was found and what is expected, and where the value came from (file or flag).
// Presets are JSON files; command-line overrides are `a.b=value` pairs applied on top.
import { z } from 'zod';
import { UserError } from './errors';
import { readTextFile } from './utf8';

export { z };

/** `path` as the message names it: dotted (`optim.lr`), or with `flags` its first part as the flag (`--max-new-tokens`). */
function fieldLabel(path: readonly PropertyKey[], flags: boolean): string {
  if (!path.length) return '(root)';
  const [first, ...rest] = path.map(String);
  return [flags ? flagName(first) : first, ...rest].join('.');
}

function describeIssue(issue: z.core.$ZodIssue, flags: boolean): string {
  const field = issue.path.length ? issue.path.join('.') : '(root)';
  let hint = '';
  if (issue.code === 'invalid_type') {
    const got = (issue as { input?: unknown }).input;
    // zod says "expected number, received number" for these: name them
    if (typeof got === 'number' && !Number.isFinite(got)) hint = ` (${got} is not a finite number)`;
    // a required field left out: zod's "Invalid input: expected array, received undefined" says it backwards
    else if (got === undefined && /^Invalid input: expected \w+, received undefined$/.test(issue.message))
      return `  - ${fieldLabel(issue.path, flags)}: missing (a ${issue.expected} is required)`;
    // --set name=123 parses 123 as JSON: a string field wants it quoted
    else if (issue.expected === 'string' && (typeof got === 'number' || typeof got === 'boolean' || got === null))
      hint = ` (from --set, quote it to keep it text: ${field}='"${String(got)}"')`;
  }
  return `  - ${fieldLabel(issue.path, flags)}: ${issue.message}${hint}`;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch']);

/** Whether `schema` is z.coerce.number() under optional / default wrappers (a number read from a flag's text). */
function isCoercedNumber(schema: unknown): boolean {
  let node = schema as { _zod?: { def?: { type?: string; coerce?: boolean; innerType?: unknown } } } | undefined;
  for (let depth = 0; depth < 8 && node?._zod?.def; depth++) {
    const def = node._zod.def;
    if (def.type === 'number') return def.coerce === true;
    if (!WRAPPERS.has(def.type ?? '')) return false;
    node = def.innerType as typeof node;
  }
  return false;
}

/**
 * Number flags are coerced from text, and Number() takes what a user did not mean: "" and " " as 0, "0x10" as
 * 16. A coerced number's text must be a decimal number; the issues name the field and the text given.
 */
export function coercedNumberIssues(schema: z.ZodType, raw: unknown): { field: string; text: string }[] {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  if (!shape || !raw || typeof raw !== 'object') return [];
  return Object.entries(raw as Record<string, unknown>)
    .filter(([k, v]) => typeof v === 'string' && isCoercedNumber(shape[k]) && !DECIMAL.test(v.trim()))
    .map(([k, v]) => ({ field: k, text: v as string }));
}

/** A path flag's schema: "" (say `--json "$OUT"` with OUT unset) is named as empty, not taken as no file or a file called "". */
export const pathFlag = () => z.string().min(1, 'is empty: give a path (an unset shell variable?)');

/** A field as its command-line flag: maxNewTokens -> --max-new-tokens. */
export const flagName = (field: string): string => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export interface ParseConfigOptions {
  /** name fields by their command-line flags (--max-new-tokens), for a command's options */
  flags?: boolean;
}

/** Validate `raw` against `schema`; on failure a UserError lists every bad field and its fix. */
export function parseConfig<S extends z.ZodType>(schema: S, raw: unknown, source: string, opts: ParseConfigOptions = {}): z.output<S> {
  const flags = opts.flags ?? false;
  const texts = coercedNumberIssues(schema, raw).map(
    (i) => `  - ${fieldLabel([i.field], flags)}: expected a decimal number, got ${JSON.stringify(i.text)}`,
  );
  if (texts.length) throw new UserError(`invalid config from ${source}:\n${texts.join('\n')}`);
  const result = schema.safeParse(raw, { reportInput: true }); // the input lets describeIssue name an Infinity
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => describeIssue(i, flags));
  throw new UserError(`invalid config from ${source}:\n${lines.join('\n')}`);
}

/** Read a JSON config file (a preset or a user's file). */
export function readConfigFile(path: string): Record<string, unknown> {
  const text = readTextFile(path, { label: `config file ${path}` });
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error('the top level must be a JSON object');
    }
    return value as Record<string, unknown>;
  } catch (e) {
    // V8 gives some syntax errors a character offset ("... in JSON at position 69"): say line:column too
    const message = (e as Error).message;
    const at = /at position (\d+)/.exec(message);
    let where = '';
    if (at) {
      const before = text.slice(0, Number(at[1])).split('\n');
      where = ` line ${before.length} column ${before[before.length - 1].length + 1}`;
    }
    throw new UserError(`config file ${path}${where}: ${message}`);
  }
}

/** Deep-merge plain objects (arrays and scalars from `over` replace those in `base`). */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      out[k] = mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Parse `--set a.b=1 c=true d="text"` overrides: values are JSON when they parse as JSON, else strings. */
export function parseOverrides(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`override ${JSON.stringify(pair)}: expected key=value, for example optim.lr=3e-4`);
    const key = pair.slice(0, eq);
    const rawValue = pair.slice(eq + 1);
    let value: unknown = rawValue;
    try {
      value = JSON.parse(rawValue);
    } catch {
      // a bare string
    }
    const parts = key.split('.');
    // an empty segment is a typo; __proto__ and friends would reach every object through its prototype
    const bad = parts.find((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype');
    if (bad !== undefined)
      throw new UserError(
        `override ${JSON.stringify(pair)}: ${bad === '' ? 'an empty key segment' : `"${bad}" is not a config key`}; write it as a.b=value`,
      );
    let node = out;
    for (const part of parts.slice(0, -1)) {
      if (!node[part] || typeof node[part] !== 'object') node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}
