// The files of one training checkpoint, `checkpoints/step-N/`: the model in Hugging Face layout (config.json,
// model.safetensors, generation_config.json, tokenizer files), optimizer.safetensors (AdamW moments, one
// flat f32 tensor per name), optional trainer_tensors.safetensors (state a trainer keeps outside the model,
// e.g. LoRA adapters), and trainer_state.json, written last: the step, the optimizer's metadata, named RNG
// streams and the trainer's own state. A directory without trainer_state.json is not a checkpoint.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, z, type RngState } from '@lwz/core';
import { readEntryInto, readSafetensorsHeader, writeSafetensors } from '@lwz/model';
import type { AdamWState } from '@lwz/optimizer';

export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TENSORS_FILE = 'trainer_tensors.safetensors';
export const TRAINER_STATE_FORMAT = 'lwz-trainer-state/2';

const rngStateSchema = z.object({
  s: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  spareNormal: z.number().nullable(),
});

/** trainer_state.json: everything but tensors, as JSON. `state` is the trainer's own (schema per trainer). */
export interface TrainerStateFile<S> {
  format: typeof TRAINER_STATE_FORMAT;
  /** optimizer updates completed: the next update is step `step` (0-based) */
  step: number;
  optimizer: AdamWState['meta'];
  rng: Record<string, RngState>;
  state: S;
}

export interface CheckpointRef {
  step: number;
  dir: string;
}

export function checkpointsRoot(runDir: string): string {
  return join(runDir, 'checkpoints');
}

export function checkpointDir(runDir: string, step: number): string {
  return join(checkpointsRoot(runDir), `step-${step}`);
}

const STEP_DIR = /^step-(\d+)$/;

/** `step-N` directories, complete (with trainer_state.json) or not, oldest first. */
export function stepDirs(runDir: string): (CheckpointRef & { complete: boolean })[] {
  const root = checkpointsRoot(runDir);
  if (!existsSync(root)) return [];
  const found: (CheckpointRef & { complete: boolean })[] = [];
  for (const name of readdirSync(root)) {
    const m = STEP_DIR.exec(name);
    if (m) found.push({ step: Number(m[1]), dir: join(root, name), complete: existsSync(join(root, name, TRAINER_STATE_FILE)) });
  }
  return found.sort((a, b) => a.step - b.step);
}

/** Complete checkpoints, oldest first. */
export function listCheckpoints(runDir: string): CheckpointRef[] {
  return stepDirs(runDir)
    .filter((d) => d.complete)
    .map(({ step, dir }) => ({ step, dir }));
}

export function writeFlatTensors(path: string, tensors: Readonly<Record<string, Float32Array>>): void {
  writeSafetensors(
    path,
    Object.entries(tensors).map(([name, data]) => ({ name, shape: [data.length], data })),
  );
}

/** Every tensor of a safetensors file as a flat Float32Array, by name. */
export function readFlatTensors(path: string): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const entry of readSafetensorsHeader(path).entries.values()) {
    const data = new Float32Array(entry.shape.reduce((a, b) => a * b, 1));
    readEntryInto(path, entry, data);
    out[entry.name] = data;
  }
  return out;
}

/** Pretraining's checkpoints before the shared run directory: the trainer's own fields sat beside the step. */
const LEGACY_FORMAT = 'lwz-trainer-state/1';

/** A /1 file read as /2: no RNG streams, and every field but format, step and optimizer is the trainer's state. */
function fromLegacy(raw: Record<string, unknown>): unknown {
  const { format: _format, step, optimizer, ...state } = raw;
  return { format: TRAINER_STATE_FORMAT, step, optimizer, rng: {}, state };
}

/** What to do about a damaged checkpoint: its files are written atomically, so damage came from outside the run. */
export const DAMAGED_CHECKPOINT_FIX = 'delete this checkpoint directory to resume from the one before, or the run directory to start over';

/** Read and validate trainer_state.json of the checkpoint in `dir` (saved at `step`). */
export function readTrainerState<S>(dir: string, step: number, stateSchema: z.ZodType<S>): TrainerStateFile<S> {
  const path = join(dir, TRAINER_STATE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read the trainer state (${(e as Error).message}); ${DAMAGED_CHECKPOINT_FIX}`);
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if (format === LEGACY_FORMAT) raw = fromLegacy(raw as Record<string, unknown>);
  else if (format !== TRAINER_STATE_FORMAT) {
    throw new UserError(
      `${path}: trainer state format ${JSON.stringify(format)}, this version reads "${TRAINER_STATE_FORMAT}" (and "${LEGACY_FORMAT}"); ${DAMAGED_CHECKPOINT_FIX}`,
    );
  }
  const schema = z.object({
    format: z.literal(TRAINER_STATE_FORMAT),
    step: z.literal(step),
    optimizer: z.record(z.string(), z.unknown()),
    rng: z.record(z.string(), rngStateSchema),
    state: stateSchema,
  });
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UserError(`${path}: invalid trainer state (${issues}); ${DAMAGED_CHECKPOINT_FIX}`);
  }
  return parsed.data as TrainerStateFile<S>;
}
