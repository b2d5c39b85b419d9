// Arena players from files: each model's response file (sample lines or any prompt + response JSONL) and
// optional baselines, either an Arena-Write file (`baseline_response` per prompt: one string, named
// "baseline", or an object of model name -> response, one player each) or another response file (the player
// is named after the file). Prompts are matched on their text; the arena runs on the prompts every model
// answered (and, with baselines, that the baseline file has). What was left out is counted, not hidden: a model's
// prompts no other player answered, its lines that repeat a prompt it already answered (the first is judged), and
// the baseline file's prompts it has no answer to.
import { basename, extname } from 'node:path';
import { countWords } from '@lwz/tokenizer';
import { loadPromptFile, type PromptRow } from '@lwz/data';
import type { ArenaAnswer, ArenaPlayer, ArenaPrompt } from './arena';
import { loadResponseFile, promptKey, textSourceCounts, type ResponseRow, type ResponseSet, type TextSource } from './responses';
import { requiredWords } from './required-length';

export interface ArenaInputs {
  players: ArenaPlayer[];
  prompts: ArenaPrompt[];
  /** per model: its answered prompts left out because another model (or the baselines) lacks them */
  leftOut: Record<string, number>;
  /** per player read from a response file: its lines not judged because they repeat a prompt it already answered */
  repeated: Record<string, number>;
  /** per model, with baselines: the baseline file's prompts it has no answer to (left out of the arena) */
  unanswered: Record<string, number>;
  /**
   * per player read from a response file: how many of its answers (one per prompt) came from each part of their line
   * (the shared rule of responses.ts: the answer field, the <answer> block, ...); Arena-Write baselines are whole texts
   */
  judgedText: Record<string, Partial<Record<TextSource, number>>>;
}

const fileStem = (file: string) => basename(file, extname(file));

/**
 * The player's first answer per prompt text (its file's lowest sample_index), how many lines repeat a prompt, and
 * where the answers' text came from.
 */
function playerFromResponses(
  name: string,
  set: ResponseSet,
  kind: 'model' | 'baseline',
): { player: ArenaPlayer; repeated: number; judgedText: Partial<Record<TextSource, number>> } {
  const answers = new Map<string, ArenaAnswer>();
  const taken: ResponseRow[] = [];
  let repeated = set.extraSamples;
  for (const r of set.rows) {
    if (answers.has(promptKey(r.prompt))) repeated++;
    else {
      answers.set(promptKey(r.prompt), { text: r.text, words: r.words });
      taken.push(r);
    }
  }
  return { player: { name, kind, answers }, repeated, judgedText: textSourceCounts(taken) };
}

/** Players from an Arena-Write file's baseline_response fields. */
export function baselinePlayers(rows: readonly PromptRow[]): ArenaPlayer[] {
  const byName = new Map<string, Map<string, ArenaAnswer>>();
  for (const row of rows) {
    const br = row.fields.baseline_response;
    const entries: [string, unknown][] =
      typeof br === 'string' ? [['baseline', br]] : br && typeof br === 'object' ? Object.entries(br) : [];
    for (const [name, text] of entries) {
      if (typeof text !== 'string') throw new Error(`baselines line ${row.line}: baseline_response.${name} must be a string`);
      const answers = byName.get(name) ?? byName.set(name, new Map()).get(name);
      answers?.set(promptKey(row.prompt), { text, words: countWords(text) });
    }
  }
  return [...byName.entries()].map(([name, answers]) => ({ name, kind: 'baseline' as const, answers }));
}

export function arenaInputs(models: readonly { name: string; responses: ResponseSet }[], baselinesFile?: string): ArenaInputs {
  const read = models.map((m) => playerFromResponses(m.name, m.responses, 'model'));
  const players = read.map((r) => r.player);
  let promptRows: { id: string; prompt: string; fields: Record<string, unknown> }[] = models[0]?.responses.rows ?? [];
  if (baselinesFile !== undefined) {
    const set = loadPromptFile(baselinesFile);
    if (set.format === 'arena-write' && set.rows.some((r) => r.fields.baseline_response !== undefined)) {
      players.push(...baselinePlayers(set.rows));
      promptRows = set.rows;
    } else {
      const baseline = playerFromResponses(fileStem(baselinesFile), loadResponseFile(baselinesFile), 'baseline');
      read.push(baseline);
      players.push(baseline.player);
    }
  }
  const models_ = players.filter((p) => p.kind === 'model');
  const inBaselines = (key: string) => baselinesFile === undefined || players.some((p) => p.kind === 'baseline' && p.answers.has(key));
  const seen = new Set<string>();
  const prompts: ArenaPrompt[] = [];
  for (const r of promptRows) {
    const key = promptKey(r.prompt);
    if (seen.has(key) || !models_.every((m) => m.answers.has(key)) || !inBaselines(key)) continue;
    seen.add(key);
    const required = requiredWords(r.prompt, r.fields);
    prompts.push({ key, id: r.id, prompt: r.prompt, ...(required !== undefined ? { required } : {}) });
  }
  const leftOut = Object.fromEntries(models_.map((m) => [m.name, [...m.answers.keys()].filter((k) => !seen.has(k)).length]));
  const repeated = Object.fromEntries(read.map((r) => [r.player.name, r.repeated]));
  const judgedText = Object.fromEntries(read.map((r) => [r.player.name, r.judgedText]));
  const baselineKeys = new Set(players.filter((p) => p.kind === 'baseline').flatMap((p) => [...p.answers.keys()]));
  const unanswered = Object.fromEntries(
    baselinesFile === undefined ? [] : models_.map((m) => [m.name, [...baselineKeys].filter((k) => !m.answers.has(k)).length]),
  );
  return { players, prompts, leftOut, repeated, unanswered, judgedText };
}
