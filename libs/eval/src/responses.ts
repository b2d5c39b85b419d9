// Response files: `lwz-train sample` lines ({id, sample_index, prompt, response, think, answer, ...} plus the
// prompt row's fields) or any JSONL with a prompt and a response. The judged text, the one rule every command
// (writingbench, longbench-write, arena) judges and counts words on, is what the trainer scores, the answer and
// not the plan: the line's `answer` (null: the completion had no answer block, so nothing: 0 words); for a line
// without an `answer` field, from its response: the <answer> block (parseCompletion, as `lwz-train sample` fills
// `answer`) when it has both tags or is in our template's shape (a cut-off answer block right after </think>, or
// opening the response); for a reasoning model's reply (<think> ... </think> then the text), the text after the
// last </think>, as WritingBench's own scorer reads it (cut off inside <think>: nothing); else the whole
// `response`. One answer per prompt: the lowest sample_index (later samples are counted, not judged). Matching to
// a prompt set by id when the prompt text agrees, else by the prompt text itself.
import { basename } from 'node:path';
import { UserError, parseJsonl, readTextFile, replyAnswer } from '@lwz/core';
import { ANSWER_CLOSE, ANSWER_OPEN, THINK_CLOSE, THINK_OPEN, countWords, parseCompletion } from '@lwz/tokenizer';

export interface ResponseRow {
  /** the line's id/index/idx, else `<file name>:<line>` */
  id: string;
  /** '' for a line without one (WritingBench's own {index, response} files): matched by id alone */
  prompt: string;
  promptless?: true;
  /** the text under judgement */
  text: string;
  /** the line's `answer` field, the <answer> block of its response, the text after its last </think>, or the whole response */
  textSource: TextSource;
  /** countWords(text): CJK characters + English words */
  words: number;
  sampleIndex: number;
  /** the whole line (LongBench-Write `length`, WritingBench `domain1`, ... ride along) */
  fields: Record<string, unknown>;
  line: number;
}

export interface ResponseSet {
  file: string;
  rows: ResponseRow[];
  /** further samples of a prompt already taken (not judged) */
  extraSamples: number;
}

/**
 * A judged text with nothing to judge (empty or whitespace only): writingbench and the arena decide it without the
 * judge (WritingBench's own script would send it).
 */
export const isBlankText = (text: string): boolean => text.trim() === '';

/** Where a line's judged text came from (judgedText). */
export type TextSource = 'answer' | 'answer-block' | 'after-think' | 'response';

type Row = Record<string, unknown>;

/** Structural faults of parseCompletion that say the response is not in our template's shape (an answer block elsewhere). */
const NOT_TEMPLATE = new Set(['think-not-closed', 'text-before', 'answer-before-think-close', 'text-between']);

const PROMPT_FIELDS = ['prompt', 'query', 'question'] as const;

function judgedText(row: Row, answer: string | undefined, response: string): { text: string; source: ResponseRow['textSource'] } {
  if (answer !== undefined) return { text: answer, source: 'answer' };
  if (row.answer === null) return { text: '', source: 'answer' }; // a sample line: the template parser found no answer block
  // an answer block needs both tags, or our template's shape (cut off before </answer>: the text after <answer>, as
  // `lwz-train sample` records it); a text that only mentions "<answer>" is not cut there
  if (response.includes(ANSWER_OPEN)) {
    const parsed = parseCompletion(response, response.includes(THINK_OPEN) ? 'think' : 'direct');
    const inTemplate = parsed.answer !== null && !parsed.codes.some((c) => NOT_TEMPLATE.has(c));
    if (response.includes(ANSWER_CLOSE) || inTemplate) return { text: parsed.answer ?? '', source: 'answer-block' };
  }
  // a reasoning model's reply (R1, QwQ, Qwen3): the text after its last </think>, as WritingBench's own scorer
  // takes it; a reply cut off inside <think> wrote no answer
  if (response.includes(THINK_CLOSE) || response.includes(THINK_OPEN)) {
    const after = replyAnswer(response);
    return { text: after.ok ? after.text.trim() : '', source: 'after-think' };
  }
  return { text: response, source: 'response' };
}

/** How many rows' judged text came from each source (results.json's `judgedText`), in the order of first use. */
export function textSourceCounts(rows: readonly { textSource?: TextSource }[]): Partial<Record<TextSource, number>> {
  const counts: Partial<Record<TextSource, number>> = {};
  for (const r of rows) if (r.textSource) counts[r.textSource] = (counts[r.textSource] ?? 0) + 1;
  return counts;
}

/** textSourceCounts in words, for a note or a report line: each source reads the response differently. */
export function describeTextSources(counts: Partial<Record<TextSource, number>>): string {
  const what: Record<TextSource, string> = {
    answer: "the line's answer field",
    'answer-block': 'the <answer> block',
    'after-think': 'the text after </think>',
    response: 'the whole response',
  };
  return (Object.entries(counts) as [TextSource, number][]).map(([k, n]) => `${n} from ${what[k]}`).join(', ');
}

/** How many rows' judged text came from each source, in words. */
export const textSources = (rows: readonly ResponseRow[]): string => describeTextSources(textSourceCounts(rows));

function parseRow(row: Row, fallbackId: string, line: number, promptOptional: boolean): ResponseRow {
  const promptField = PROMPT_FIELDS.find((f) => typeof row[f] === 'string');
  const hasId = ['id', 'index', 'idx'].some((f) => typeof row[f] === 'string' || typeof row[f] === 'number');
  if (!promptField && !(promptOptional && hasId))
    throw new Error(
      `needs the prompt as a string field "prompt" (or "query", "question")${promptOptional ? ', or an "index" / "id" matching a row of the prompt file' : ''}`,
    );
  const answer = typeof row.answer === 'string' ? row.answer : undefined;
  const response = typeof row.response === 'string' ? row.response : undefined;
  if (answer === undefined && response === undefined) throw new Error('needs the answer as a string field "response" (or "answer")');
  const judged = judgedText(row, answer, response as string);
  const rawId = row.id ?? row.index ?? row.idx;
  const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : fallbackId;
  const sampleIndex = typeof row.sample_index === 'number' ? row.sample_index : 0;
  return {
    id,
    prompt: promptField ? (row[promptField] as string) : '',
    ...(promptField ? {} : { promptless: true as const }),
    text: judged.text,
    textSource: judged.source,
    words: countWords(judged.text),
    sampleIndex,
    fields: row,
    line,
  };
}

export interface ResponseFileOptions {
  /**
   * the answers are matched to a prompt file (WritingBench, LongBench-Write), so a line may carry only an id
   * ("index" / "id") and the response, as WritingBench's own response files do
   */
  promptOptional?: boolean;
}

/** Parse response lines; the first sample of each (id, prompt) is kept. */
export function parseResponses(text: string, file: string, opts: ResponseFileOptions = {}): ResponseSet {
  const name = basename(file);
  const parsed = parseJsonl(text, file, (value, line) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a JSON object per line');
    return parseRow(value as Row, `${name}:${line}`, line, opts.promptOptional ?? false);
  });
  if (parsed.length === 0) throw new UserError(`${file}: no response lines (the file is empty)`);
  const best = new Map<string, ResponseRow>();
  let extraSamples = 0;
  for (const { value: r } of parsed) {
    const key = `${r.id}\u0000${r.prompt}`;
    const prev = best.get(key);
    if (prev) extraSamples++;
    if (!prev || r.sampleIndex < prev.sampleIndex) best.set(key, r);
  }
  return { file, rows: [...best.values()], extraSamples };
}

export function loadResponseFile(file: string, opts: ResponseFileOptions = {}): ResponseSet {
  return parseResponses(readTextFile(file, { hint: 'check the path' }).replace(/^\uFEFF/, ''), file, opts);
}

/** The key answers are matched on when no prompt set gives ids: the prompt text, trimmed. */
export const promptKey = (prompt: string): string => prompt.trim();

/**
 * For each prompt row, its response (or undefined): by id when the prompt texts agree (or the response states no
 * prompt), else by the prompt text when exactly one response has it. `unmatched` lists responses no prompt row took.
 */
export function matchResponses(
  prompts: readonly { id: string; prompt: string }[],
  responses: ResponseSet,
): { matched: (ResponseRow | undefined)[]; unmatched: ResponseRow[] } {
  const byId = new Map<string, ResponseRow>();
  const byText = new Map<string, ResponseRow[]>();
  for (const r of responses.rows) {
    byId.set(r.id, r);
    if (r.promptless) continue;
    const k = promptKey(r.prompt);
    byText.set(k, [...(byText.get(k) ?? []), r]);
  }
  const used = new Set<ResponseRow>();
  const matched = prompts.map((p) => {
    const k = promptKey(p.prompt);
    const viaId = byId.get(p.id);
    const r =
      viaId && (viaId.promptless || promptKey(viaId.prompt) === k) ? viaId : byText.get(k)?.length === 1 ? byText.get(k)?.[0] : undefined;
    if (r && used.has(r)) return undefined;
    if (r) used.add(r);
    return r;
  });
  return { matched, unmatched: responses.rows.filter((r) => !used.has(r)) };
}
