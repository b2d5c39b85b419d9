// Where GRPO's prompts come from: a prompt file (any format @lwz/data loads) or the writing-prompt generator
// (train split for training, held-out split, topics disjoint, for the before/after evaluation); and which
// prompts step s uses: a seeded permutation per epoch over the prompts, read at cursor s * perStep, so a
// resumed run draws exactly the prompts an uninterrupted one would.
import { Rng, UserError } from '@lwz/core';
import { generateWritingPrompts, loadPromptFile } from '@lwz/data';
import { renderPromptFor, type PromptTemplate, type Tokenizer } from '@lwz/tokenizer';
import type { GrpoConfig } from './config';

export interface GrpoPrompt {
  id: string;
  prompt: string;
  /** explicit target range in words (generated rows); else the rewards resolve it from the wording */
  length_range?: [number, number];
  /** required words (LongBench-Write style), for S_l */
  length?: number;
  /** file:line of a row read from `prompts.file` (absent for generated prompts) */
  where?: string;
}

export interface PromptSource {
  train: GrpoPrompt[];
  heldout: GrpoPrompt[];
  /** where they came from, for the log and the report */
  origin: string;
}

export function loadPrompts(cfg: GrpoConfig): PromptSource {
  const g = cfg.prompts.generator;
  const generated = generateWritingPrompts({
    seed: g.seed,
    train: g.train,
    heldout: g.heldout,
    heldoutTopicFraction: g.heldoutTopicFraction,
    budget: g.budget,
  });
  const heldout = generated.heldout.map((r) => ({ id: r.id, prompt: r.prompt, length_range: r.length_range, length: r.length }));
  if (!cfg.prompts.file) {
    const train = generated.train.map((r) => ({ id: r.id, prompt: r.prompt, length_range: r.length_range, length: r.length }));
    return { train, heldout, origin: `generated (seed ${g.seed}, ${train.length} train / ${heldout.length} held-out prompts)` };
  }
  const set = loadPromptFile(cfg.prompts.file);
  if (!set.rows.length) throw new UserError(`${cfg.prompts.file}: no prompt rows`);
  const train = set.rows.map((r) => ({
    id: r.id,
    prompt: r.prompt,
    where: `${cfg.prompts.file}:${r.line}`,
    ...(r.lengthRange ? { length_range: r.lengthRange } : {}),
    ...(r.length !== undefined ? { length: r.length } : {}),
  }));
  return { train, heldout, origin: `${cfg.prompts.file} (${set.format}, ${train.length} prompts); held-out: generated` };
}

/** The prompt indices of step `step`: positions [step * k, step * k + k) of the concatenated epoch permutations. */
export function stepPrompts(count: number, perStep: number, seed: number, step: number): number[] {
  const out: number[] = [];
  for (let pos = step * perStep; pos < (step + 1) * perStep; pos++) {
    const epoch = Math.floor(pos / count);
    out.push(permutation(count, seed, epoch)[pos % count]);
  }
  return out;
}

const cache = new Map<string, Uint32Array>();

function permutation(n: number, seed: number, epoch: number): Uint32Array {
  const key = `${n}/${seed}/${epoch}`;
  let perm = cache.get(key);
  if (!perm) {
    perm = Uint32Array.from(new Rng(seed).split(`prompts/epoch/${epoch}`).shuffle(Array.from({ length: n }, (_, i) => i)));
    if (cache.size > 8) cache.clear();
    cache.set(key, perm);
  }
  return perm;
}

/** A prompt rendered under the template: its token ids, and the prefill its answers continue (an opened <think>, or ''). */
export interface RenderedPrompt {
  ids: number[];
  prefill: string;
}

/** Renders and encodes each prompt once (cached by id). */
export function promptRenderer(tokenizer: Tokenizer, template: PromptTemplate): (p: GrpoPrompt) => RenderedPrompt {
  const encoded = new Map<string, RenderedPrompt>();
  return (p) => {
    let r = encoded.get(p.id);
    if (!r) {
      const { text, prefill } = renderPromptFor(tokenizer, template, p.prompt);
      r = { ids: tokenizer.encode(text, { addSpecialTokens: false }), prefill };
      encoded.set(p.id, r);
    }
    return r;
  };
}

/**
 * A prompt file's rows that leave no room for an answer in the model's `context` tokens: with prompts.skipLong they
 * are left out of `prompts.train` (and the origin says so), else the run is refused naming up to five of them.
 * Checked before the run directory exists, so a run does not stop at the step that draws one.
 */
export function fitPromptsToContext(
  cfg: GrpoConfig,
  prompts: PromptSource,
  context: number,
  promptIds: (p: GrpoPrompt) => number[],
  templateName: string,
  log: (line: string) => void,
): void {
  if (cfg.rollout.maxNewTokens >= context)
    throw new UserError(
      `rollout.maxNewTokens: ${cfg.rollout.maxNewTokens} new tokens do not fit the model's ${context}-token context after any prompt; ` +
        `set it below ${context} (each answer is also capped by the room its own prompt leaves)`,
    );
  const full = prompts.train.filter((p) => p.where !== undefined && context - promptIds(p).length < 2);
  if (full.length && cfg.prompts.skipLong) {
    const long = new Set(full);
    const kept = prompts.train.filter((p) => !long.has(p));
    if (!kept.length)
      throw new UserError(`every prompt of ${cfg.prompts.file} leaves no room for an answer in the model's ${context}-token context`);
    log(
      `left out ${full.length} of ${prompts.train.length} prompts of ${cfg.prompts.file} that leave no room for an answer in the ${context}-token context (prompts.skipLong)`,
    );
    prompts.train = kept;
    prompts.origin += `, ${full.length} left out for length (prompts.skipLong)`;
  } else if (full.length) {
    // the id only where the row has its own (a row without one is named by file:line already)
    const id = (p: GrpoPrompt) => ((p.where as string).endsWith(p.id) ? '' : `id ${JSON.stringify(p.id)}, `);
    const list = full.slice(0, 5).map((p) => `${p.where} (${id(p)}${promptIds(p).length} tokens)`);
    throw new UserError(
      `${full.length} prompt${full.length > 1 ? 's' : ''} of ${cfg.prompts.file} leave${full.length > 1 ? '' : 's'} no room for an answer in the model's ${context}-token context ` +
        `with the ${templateName} template: ${list.join(', ')}${full.length > 5 ? ', ...' : ''}. Remove ${full.length > 1 ? 'them' : 'it'} from the file, ` +
        'leave such rows out with --set prompts.skipLong=true, or start from a longer-context checkpoint',
    );
  }
}
