// The embedded default's held-out answers, as `lwz-train train` leaves them: runs/grpo-tiny/heldout-base.jsonl
// (the start checkpoint) and heldout-rl.jsonl, plus the RL answers of the ablation runs grpo-tiny-direct and
// grpo-tiny-base when they exist. Each line {id, prompt, response, answer_words, target_range, format_valid,
// ...} becomes an answer: the judged text is the <answer> block under the run's template (the whole response
// when there is none, as the quality reward reads it), the required words grpo/evaluate.ts scored S_l against
// (the line's `length`, which it writes; files from before it: the middle of `target_range`). Not the scoring itself.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, readJsonl } from '@lwz/core';
import { parseCompletion, type TemplateName } from '@lwz/tokenizer';

/** model name -> (run directory name, held-out side), in leaderboard order of collection. */
export const DEFAULT_MODELS: readonly { name: string; run: string; side: 'base' | 'rl' }[] = [
  { name: 'base', run: 'grpo-tiny', side: 'base' },
  { name: 'rl', run: 'grpo-tiny', side: 'rl' },
  { name: 'rl-direct', run: 'grpo-tiny-direct', side: 'rl' },
  { name: 'rl-from-random', run: 'grpo-tiny-base', side: 'rl' },
];

export interface HeldoutAnswer {
  id: string;
  prompt: string;
  /** the <answer> block, or the whole response when there is none */
  text: string;
  /** countWords of the <answer> block, as the rewards counted it (0 without one) */
  answerWords: number;
  /** the words S_l is scored against */
  required: number;
  formatValid: boolean;
}

export interface HeldoutModel {
  name: string;
  file: string;
  answers: HeldoutAnswer[];
}

const isRange = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function parseLine(value: unknown, template: TemplateName): HeldoutAnswer {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a JSON object per line');
  const r = value as Record<string, unknown>;
  for (const f of ['id', 'prompt', 'response'] as const) if (typeof r[f] !== 'string') throw new Error(`field "${f}" must be a string`);
  if (typeof r.answer_words !== 'number') throw new Error('field "answer_words" must be a number');
  if (typeof r.format_valid !== 'boolean') throw new Error('field "format_valid" must be true or false');
  const own = typeof r.length === 'number' && r.length > 0 ? r.length : undefined;
  if (own === undefined && !isRange(r.target_range)) throw new Error('needs "target_range" [lo, hi] (or a positive "length")');
  const tr = r.target_range as [number, number];
  const required = own ?? (tr[0] + tr[1]) / 2;
  if (!(required > 0)) throw new Error(`required length ${required} from "target_range" is not positive`);
  const answer = parseCompletion(r.response as string, template).answer;
  return {
    id: r.id as string,
    prompt: r.prompt as string,
    text: answer ? answer : (r.response as string),
    answerWords: r.answer_words,
    required,
    formatValid: r.format_valid,
  };
}

/** The run's prompt template from its config.json (`think` when it names none). */
function runTemplate(runDir: string): TemplateName {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) return 'think';
  let t: unknown;
  try {
    t = (JSON.parse(readFileSync(path, 'utf8')) as { template?: unknown }).template;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (t === undefined) return 'think';
  if (t !== 'think' && t !== 'direct') throw new UserError(`${path}: template ${JSON.stringify(t)} is not "think" or "direct"`);
  return t;
}

export interface CollectedModels {
  models: HeldoutModel[];
  /** one line per model whose file is missing (ablations not run) */
  notes: string[];
}

/** The held-out answers found under `runsDir`; without runs/grpo-tiny's two files, an error saying to train first. */
export function collectDefaultModels(runsDir: string): CollectedModels {
  const models: HeldoutModel[] = [];
  const notes: string[] = [];
  for (const m of DEFAULT_MODELS) {
    const runDir = join(runsDir, m.run);
    const file = join(runDir, `heldout-${m.side}.jsonl`);
    if (!existsSync(file)) {
      if (m.run === 'grpo-tiny') {
        throw new UserError(
          `${file} does not exist: eval-default needs the held-out answers of the default GRPO run; run \`npx nx run trainer:train\` first (or pass --runs DIR)`,
        );
      }
      notes.push(`${m.name}: ${file} not found (the ${m.run} ablation has not been run, or not to its end); left out`);
      continue;
    }
    const template = runTemplate(runDir);
    const answers = readJsonl(file, (v) => parseLine(v, template)).map((r) => r.value);
    if (answers.length === 0) throw new UserError(`${file}: no held-out answers (the file is empty); rerun the training's evaluation`);
    models.push({ name: m.name, file, answers });
  }
  return { models, notes };
}
