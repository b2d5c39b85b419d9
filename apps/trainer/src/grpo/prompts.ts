// Where GRPO's prompts come from: a prompt file (any format @lwz/data loads) or the writing-prompt generator
// (train split for training, held-out split, topics disjoint, for the before/after evaluation); and which
// prompts step s uses: a seeded permutation per epoch over the prompts, read at cursor s * perStep, so a
// resumed run draws exactly the prompts an uninterrupted one would.
import { Rng, UserError } from '@lwz/core';
import { generateWritingPrompts, loadPromptFile } from '@lwz/data';
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
    perm = Uint32Array.from({ length: n }, (_, i) => i);
    const rng = new Rng(seed).split(`prompts/epoch/${epoch}`);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    if (cache.size > 8) cache.clear();
    cache.set(key, perm);
  }
  return perm;
}
