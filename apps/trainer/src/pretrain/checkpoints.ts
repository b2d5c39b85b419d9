// Training checkpoints: `checkpoints/step-N/` holds the model in Hugging Face layout (config.json,
// model.safetensors, generation_config.json, tokenizer files), optimizer.safetensors (AdamW moments) and
// trainer_state.json, written LAST: a directory without it is an interrupted save and is ignored on resume.
// Older checkpoints beyond `keepLast` are deleted after a new one is complete.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, writeJsonAtomic } from '@lwz/core';
import { readEntryInto, readSafetensorsHeader, saveModel, writeSafetensors, type Qwen2Model } from '@lwz/model';
import type { AdamW, AdamWState } from '@lwz/optimizer';

export const TRAINER_STATE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';

export interface TrainerState {
  format: 'lwz-trainer-state/1';
  /** updates completed; the next update is step `step` (0-based) and reads data batch `step` */
  step: number;
  seed: number;
  optimizer: AdamWState['meta'];
  /** best-effort record of where the run is */
  tokensSeen: number;
}

export function checkpointDir(runDir: string, step: number): string {
  return join(runDir, 'checkpoints', `step-${step}`);
}

/** Completed checkpoints, newest last. */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  const root = join(runDir, 'checkpoints');
  if (!existsSync(root)) return [];
  const found: { step: number; dir: string }[] = [];
  for (const name of readdirSync(root)) {
    const m = /^step-(\d+)$/.exec(name);
    if (m && existsSync(join(root, name, TRAINER_STATE))) found.push({ step: Number(m[1]), dir: join(root, name) });
  }
  return found.sort((a, b) => a.step - b.step);
}

export function saveCheckpoint(
  runDir: string,
  model: Qwen2Model,
  optimizer: AdamW,
  state: Omit<TrainerState, 'optimizer'>,
  opts: { tokenizerDir: string; keepLast: number },
): string {
  const dir = checkpointDir(runDir, state.step);
  saveModel(model, dir, { tokenizerDir: opts.tokenizerDir });
  const opt = optimizer.state();
  writeSafetensors(
    join(dir, OPTIMIZER_FILE),
    Object.entries(opt.tensors).map(([name, data]) => ({ name, shape: [data.length], data })),
  );
  writeJsonAtomic(join(dir, TRAINER_STATE), { ...state, optimizer: opt.meta });
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - opts.keepLast))) rmSync(old.dir, { recursive: true, force: true });
  return dir;
}

export function readTrainerState(dir: string): TrainerState {
  const path = join(dir, TRAINER_STATE);
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as TrainerState;
  } catch (e) {
    throw new UserError(`${path}: cannot read trainer state (${(e as Error).message}); delete the checkpoint to start over`);
  }
  if (state.format !== 'lwz-trainer-state/1' || !Number.isInteger(state.step)) {
    throw new UserError(`${path}: not an lwz trainer state (format ${JSON.stringify(state.format)})`);
  }
  return state;
}

/** The AdamW state saved beside the model. */
export function readOptimizerState(dir: string, meta: AdamWState['meta']): AdamWState {
  const path = join(dir, OPTIMIZER_FILE);
  const tensors: Record<string, Float32Array> = {};
  for (const entry of readSafetensorsHeader(path).entries.values()) {
    const data = new Float32Array(entry.shape.reduce((a, b) => a * b, 1));
    readEntryInto(path, entry, data);
    tensors[entry.name] = data;
  }
  return { tensors, meta };
}
