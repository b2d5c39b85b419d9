// Prompt-file loaders: detect the format from the first row's fields, then validate EVERY row against it.
// Formats: generated writing prompts (`lwz-writing`, see generator.ts), LongBench-Write `{prompt, type, length}`,
// WritingBench v1 `{index, domain1, domain2, query, criteria}` and v2 `{..., checklist}`, Arena-Write
// `{idx, question, type, length, baseline_response}`, verl RL rows `{prompt: [chat messages], reward_model?,
// extra_info?}` (export-recipe's, or any verl dataset's), or plain `{prompt}`. Errors name `file:line` and the field.
import { basename } from 'node:path';
import { UserError, parseJsonl, readTextFile } from '@lwz/core';
import { type Criterion, PROMPT_FORMATS, type PromptFormat, type PromptRow, type PromptSet } from './types';
import { rangeCentre } from './generator';

type Row = Record<string, unknown>;

function show(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length ? 'an array' : 'an empty array';
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 40 ? `${s.slice(0, 40)}...` : s}`;
}

function str(row: Row, field: string): string {
  const v = row[field];
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`field "${field}" must be a non-empty string, got ${show(v)}`);
  return v;
}

function optStr(row: Row, field: string): string | undefined {
  if (row[field] === undefined || row[field] === null) return undefined;
  if (typeof row[field] !== 'string') throw new Error(`field "${field}" must be a string, got ${show(row[field])}`);
  return row[field] as string;
}

function positiveInt(row: Row, field: string): number {
  const v = row[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new Error(`field "${field}" must be a positive integer (words), got ${show(v)}`);
  }
  return v;
}

function idOf(row: Row, field: string): string {
  const v = row[field];
  if (typeof v !== 'number' && (typeof v !== 'string' || v === '')) {
    throw new Error(`field "${field}" must be a number or non-empty string, got ${show(v)}`);
  }
  return String(v);
}

function criteria(row: Row, field: 'criteria' | 'checklist'): Criterion[] {
  const list = row[field];
  if (!Array.isArray(list) || list.length === 0) throw new Error(`field "${field}" must be a non-empty array, got ${show(list)}`);
  return list.map((item, i) => {
    const where = `${field}[${i}]`;
    if (typeof item === 'string' && item.trim()) return { name: `criterion ${i + 1}`, description: item, bands: {} };
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      throw new Error(`field "${where}" must be an object {name, criteria_description, ...} or a string, got ${show(item)}`);
    }
    const c = item as Row;
    if (typeof c.name !== 'string') throw new Error(`field "${where}.name" must be a string, got ${show(c.name)}`);
    if (typeof c.criteria_description !== 'string') {
      throw new Error(`field "${where}.criteria_description" must be a string, got ${show(c.criteria_description)}`);
    }
    const bands: Record<string, string> = {};
    for (const [k, v] of Object.entries(c)) if (/^\d+-\d+$/.test(k) && typeof v === 'string') bands[k] = v;
    return { name: c.name, description: c.criteria_description, bands };
  });
}

/**
 * A WritingBench row's criteria: v1 rows carry `criteria`, v2 rows `checklist` (every file WritingBench ships today).
 * A row with both is refused unless the two lists are the same: which set its scores should follow is not ours to
 * guess, and taking one silently would score other criteria than the writer meant, at one judge call per criterion.
 */
function writingBenchCriteria(row: Row, format: 'writingbench-v1' | 'writingbench-v2'): Criterion[] {
  const [field, other] = format === 'writingbench-v1' ? (['criteria', 'checklist'] as const) : (['checklist', 'criteria'] as const);
  const own = criteria(row, field);
  if (row[other] !== undefined && row[other] !== null && JSON.stringify(criteria(row, other)) !== JSON.stringify(own)) {
    throw new Error(
      `has both "checklist" (WritingBench v2) and "criteria" (v1), and they differ: which to score is ambiguous; keep one of the two fields (WritingBench's own files carry only "checklist")`,
    );
  }
  return own;
}

/** [lo, hi] words when `v` is one (finite, 0 <= lo <= hi), else undefined. */
function asRange(v: unknown): [number, number] | undefined {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) || v[0] > v[1])
    return undefined;
  return [v[0], v[1]];
}

/** `row[field]` as a word range, or an error naming the field (`label`, default the field). */
function lengthRange(row: Row, field = 'length_range', label = field): [number, number] {
  const r = asRange(row[field]);
  if (!r) throw new Error(`field "${label}" must be [lo, hi] with 0 <= lo <= hi (words), got ${show(row[field])}`);
  return r;
}

/**
 * Arena-Write's `baseline_response`: absent, one answer (a string), or an object of model name -> answer. Each answer
 * is a string: an array would become players named "0", "1", ... and a null one stops the arena later with no line.
 */
function checkBaselineResponses(v: unknown): void {
  if (v === undefined || typeof v === 'string') return;
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`field "baseline_response" must be a string or an object {model name: response}, got ${show(v)}`);
  for (const [name, text] of Object.entries(v)) {
    if (typeof text !== 'string')
      throw new Error(
        `field "baseline_response.${name}" must be a string (that model's answer), got ${show(text)}; leave the name out of a row it did not answer`,
      );
  }
}

/**
 * A verl RL row: the prompt is its last user message (the sampling template brings its own system message); the id,
 * required length and target range come from extra_info (export-recipe writes id, length and length_range there),
 * the range else from reward_model.ground_truth when that is "[lo, hi]" (other tasks' ground truths are not ranges).
 * The range and length are also set as top-level fields, so sample lines carry them to score-rewards and
 * longbench-write as a generated row's do.
 */
function parseVerlRow(row: Row, fallbackId: string, line: number): PromptRow {
  const messages = row.prompt as unknown[];
  messages.forEach((m, i) => {
    const msg = m as Row | null;
    if (!msg || typeof msg !== 'object' || typeof msg.role !== 'string' || typeof msg.content !== 'string')
      throw new Error(`field "prompt[${i}]" must be a chat message {"role": ..., "content": "..."}, got ${show(m)}`);
  });
  const user = (messages as Row[]).filter((m) => m.role === 'user').pop();
  if (!user || !(user.content as string).trim())
    throw new Error('field "prompt" (chat messages) has no user message with text; the prompt is the last {"role": "user"} message');
  const extra = row.extra_info && typeof row.extra_info === 'object' && !Array.isArray(row.extra_info) ? (row.extra_info as Row) : {};
  let range: [number, number] | undefined;
  if (extra.length_range !== undefined && extra.length_range !== null)
    range = lengthRange(extra, 'length_range', 'extra_info.length_range');
  else {
    const truth = (row.reward_model as Row | undefined)?.ground_truth;
    if (typeof truth === 'string' && truth.trim().startsWith('['))
      try {
        range = asRange(JSON.parse(truth));
      } catch {
        // not JSON: not a range
      }
  }
  const length = extra.length === undefined || extra.length === null ? undefined : positiveInt(extra, 'length');
  const id = extra.id !== undefined ? idOf(extra, 'id') : extra.index !== undefined ? idOf(extra, 'index') : fallbackId;
  return {
    fields: { ...row, ...(length !== undefined ? { length } : {}), ...(range ? { length_range: range } : {}) },
    line,
    id,
    prompt: user.content as string,
    type: optStr(extra, 'type'),
    ...(length !== undefined ? { length } : {}),
    ...(range ? { lengthRange: range } : {}),
  };
}

/** Which format a row looks like (by its fields), or null when it fits none. */
export function detectPromptFormat(row: unknown): PromptFormat | null {
  if (!row || typeof row !== 'object' || Array.isArray(row)) return null;
  const has = (k: string) => k in (row as Row);
  if (has('query') && has('checklist')) return 'writingbench-v2';
  if (has('query') && has('criteria')) return 'writingbench-v1';
  if (has('question') && (has('idx') || has('baseline_response'))) return 'arena-write';
  if (Array.isArray((row as Row).prompt)) return 'verl';
  if (has('prompt') && has('length_range')) return 'lwz-writing';
  if (has('prompt') && has('length')) return 'longbench-write';
  if (has('prompt')) return 'prompt';
  return null;
}

function parseRow(format: PromptFormat, row: Row, fallbackId: string, line: number): PromptRow {
  const base = { fields: row, line };
  switch (format) {
    case 'lwz-writing': {
      const length = positiveInt(row, 'length');
      const range = lengthRange(row);
      // the held-out S_l measures against `length`, the length reward against `length_range`: they must agree
      if (range[1] > 0 && (length < range[0] || length > range[1])) {
        throw new Error(
          `field "length" (${length}) lies outside "length_range" [${range[0]}, ${range[1]}]: S_l scores against length and the length reward against the range; set length to the range's centre, ${rangeCentre(range)}`,
        );
      }
      return { ...base, id: idOf(row, 'id'), prompt: str(row, 'prompt'), type: str(row, 'type'), length, lengthRange: range };
    }
    case 'longbench-write':
      return {
        ...base,
        id: row.id === undefined ? fallbackId : idOf(row, 'id'),
        prompt: str(row, 'prompt'),
        type: str(row, 'type'),
        length: positiveInt(row, 'length'),
      };
    case 'writingbench-v1':
    case 'writingbench-v2':
      return {
        ...base,
        id: idOf(row, 'index'),
        prompt: str(row, 'query'),
        type: str(row, 'domain1'),
        criteria: writingBenchCriteria(row, format),
      };
    case 'arena-write':
      checkBaselineResponses(row.baseline_response);
      return {
        ...base,
        id: idOf(row, 'idx'),
        prompt: str(row, 'question'),
        type: optStr(row, 'type'),
        length: row.length === undefined ? undefined : positiveInt(row, 'length'),
      };
    case 'verl':
      if (!Array.isArray(row.prompt))
        throw new Error(`field "prompt" must be an array of chat messages (a verl row), got ${show(row.prompt)}`);
      return parseVerlRow(row, fallbackId, line);
    case 'prompt':
      return { ...base, id: row.id === undefined ? fallbackId : idOf(row, 'id'), prompt: str(row, 'prompt'), type: optStr(row, 'type') };
    default:
      throw new Error(`unhandled format ${format satisfies never}`);
  }
}

const FORMAT_HINT =
  'expected LongBench-Write {prompt, type, length}, WritingBench {index, domain1, query, criteria|checklist}, ' +
  'Arena-Write {idx, question, ...}, generated {id, prompt, type, length, length_range}, verl {prompt: [chat messages], ...}, or {prompt}';

/**
 * Parse prompt rows from JSONL text. `format` forces a format; by default the first row decides, and a later row of
 * another format is an error (read as the first row's format, its other fields, e.g. a length, were dropped silently).
 */
export function parsePromptSet(text: string, file: string, format?: PromptFormat): PromptSet {
  if (format !== undefined && !PROMPT_FORMATS.includes(format)) {
    throw new UserError(`unknown prompt format ${JSON.stringify(format)}; valid: ${PROMPT_FORMATS.join(', ')}`);
  }
  let detected: PromptFormat | undefined = format;
  let firstLine = 0;
  const name = basename(file);
  const ids = new Map<string, number>();
  const parsed = parseJsonl(text, file, (value, line) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`expected a JSON object, got ${show(value)}`);
    if (format === undefined) {
      const d = detectPromptFormat(value);
      if (d === null) throw new Error(`unrecognised prompt row with fields {${Object.keys(value).join(', ')}}; ${FORMAT_HINT}`);
      if (detected === undefined) {
        detected = d;
        firstLine = line;
      } else if (d !== detected)
        throw new Error(
          `a ${d} row (fields {${Object.keys(value).join(', ')}}) in a file whose line ${firstLine} made it ${detected}; give every row the same format`,
        );
    }
    const row = parseRow(detected as PromptFormat, value as Row, `${name}:${line}`, line);
    const prev = ids.get(row.id);
    if (prev !== undefined) throw new Error(`duplicate id ${JSON.stringify(row.id)} (first on line ${prev})`);
    ids.set(row.id, line);
    return row;
  });
  if (parsed.length === 0 || detected === undefined) throw new UserError(`${file}: no prompt rows (the file is empty); ${FORMAT_HINT}`);
  return { file, format: detected, rows: parsed.map((r) => r.value) };
}

/** Read a prompt JSONL file; the result says which format was detected. */
export function loadPromptFile(file: string, format?: PromptFormat): PromptSet {
  return parsePromptSet(readTextFile(file, { hint: 'check the path' }).replace(/^\uFEFF/, ''), file, format);
}
