// One training run's directory, shared by pretraining, GRPO and reward-model training:
//   config.json (the resolved config), metrics.jsonl (one line per step), checkpoints/step-N/ (see
//   checkpoint-files.ts), and whatever the trainer adds (report.html, summary.json) through writeFile.
// `RunDir.open` is the one place a run starts or resumes: it refuses a different config, picks the newest
// complete checkpoint, cuts metrics back to it and clears leftovers of interrupted saves. One process per
// run directory: `run.lock` holds the owner's pid (a second run is refused; a dead owner's lock is taken over).
// Not a trainer: what a step computes is the caller's.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  Rng,
  UserError,
  appendJsonl,
  ensureDir,
  isUserError,
  takeLock,
  writeDirAtomic,
  writeFileAtomic,
  writeJsonAtomic,
  type z,
} from '@lwz/core';
import { hasWeights, openWeights, readModelConfig, readSafetensorsHeader, saveModel, type Qwen2Model, type SaveOptions } from '@lwz/model';
import type { AdamWState } from '@lwz/optimizer';
import { checkSavedConfig } from './config-check';
import {
  DAMAGED_CHECKPOINT_FIX,
  OPTIMIZER_FILE,
  TENSORS_FILE,
  TRAINER_STATE_FILE,
  TRAINER_STATE_FORMAT,
  checkpointDir,
  checkpointsRoot,
  listCheckpoints,
  readFlatTensors,
  readTrainerState,
  stepDirs,
  writeFlatTensors,
  type CheckpointRef,
  type TrainerStateFile,
} from './checkpoint-files';
import { failpoint } from './failpoint';
import { checkpointsKept, firstNonFiniteTensor } from './finite-guard';
import { readMetrics, truncateMetrics, type MetricsRow } from './metrics';

/** What RunDir needs of an optimizer: AdamW's exact save/restore. */
export interface CheckpointableOptimizer {
  state(): AdamWState;
  loadState(state: AdamWState): void;
}

export interface RunDirOptions<S> {
  /** the run directory (created when missing) */
  dir: string;
  /** the resolved config (JSON-serialisable): saved as config.json; resuming under a different one is refused */
  config: unknown;
  /** validates the trainer's own state in trainer_state.json (e.g. a prompt cursor) */
  stateSchema: z.ZodType<S>;
  /** complete checkpoints kept; older ones are deleted once a newer one is complete */
  keepLast: number;
  /**
   * dotted config fields a resume may change (how the run is kept or computed, never its numbers: keepLast,
   * checkpointEvery, model.runtime); `out` and `name` always may (a moved run directory resumes)
   */
  mutable?: readonly string[];
}

/** The newest complete checkpoint, from which a run continues. */
export interface ResumePoint<S> {
  /** updates completed; the next update is step `step` (0-based) */
  step: number;
  /** checkpoints/step-N: a Hugging Face model directory (`loadModel(dir)`) */
  dir: string;
  /** the trainer's own state, validated by the schema given to `open` */
  state: S;
  /** a saved RNG stream by name, continuing exactly where it stopped */
  rng(name: string): Rng;
  /** load optimizer.safetensors into `optimizer` (same parameter names, sizes and hyperparameters) */
  restoreOptimizer(optimizer: CheckpointableOptimizer): void;
  /** trainer_tensors.safetensors by name (empty when the checkpoint has none) */
  readTensors(): Record<string, Float32Array>;
}

export interface CheckpointInput<S> {
  /** updates completed (the directory is checkpoints/step-<step>) */
  step: number;
  model: Qwen2Model;
  optimizer: CheckpointableOptimizer;
  state: S;
  /** RNG streams to resume exactly, by name */
  rngs?: Readonly<Record<string, Rng>>;
  /** flat f32 tensors kept outside the model (e.g. LoRA adapters: the model is saved merged) */
  tensors?: Readonly<Record<string, Float32Array>>;
  /** how the model is saved (tokenizer copies tokenizer.json + tokenizer_config.json beside it) */
  modelOptions?: SaveOptions;
}

function resumePoint<S>(ref: CheckpointRef, schema: z.ZodType<S>): ResumePoint<S> {
  const saved: TrainerStateFile<S> = readTrainerState(ref.dir, ref.step, schema);
  // the model and optimizer files are looked at now (headers only), so a damaged one is named with the fix before
  // the trainer builds anything
  try {
    readModelConfig(ref.dir);
    openWeights(ref.dir);
    readSafetensorsHeader(join(ref.dir, OPTIMIZER_FILE));
  } catch (e) {
    if (!isUserError(e)) throw e;
    throw new UserError(`${(e as Error).message}; ${DAMAGED_CHECKPOINT_FIX}`);
  }
  return {
    step: ref.step,
    dir: ref.dir,
    state: saved.state,
    rng(name) {
      const s = saved.rng[name];
      if (!s) {
        const names = Object.keys(saved.rng).join(', ') || 'none';
        throw new UserError(`${join(ref.dir, TRAINER_STATE_FILE)} has no RNG stream "${name}" (saved: ${names})`);
      }
      return new Rng(s);
    },
    restoreOptimizer(optimizer) {
      const path = join(ref.dir, OPTIMIZER_FILE);
      try {
        optimizer.loadState({ tensors: readFlatTensors(path), meta: saved.optimizer });
      } catch (e) {
        throw new UserError(`${path}: cannot restore the optimizer (${(e as Error).message}); ${DAMAGED_CHECKPOINT_FIX}`);
      }
    },
    readTensors() {
      const path = join(ref.dir, TENSORS_FILE);
      return existsSync(path) ? readFlatTensors(path) : {};
    },
  };
}

export class RunDir<S> {
  readonly dir: string;
  readonly configPath: string;
  readonly metricsPath: string;
  /** null: a fresh run (metrics.jsonl was removed) */
  readonly resume: ResumePoint<S> | null;
  private readonly keepLast: number;
  private lastStep: number;

  private constructor(
    o: RunDirOptions<S>,
    resume: ResumePoint<S> | null,
    lastStep: number,
    private readonly release: () => void,
  ) {
    this.dir = o.dir;
    this.configPath = join(o.dir, 'config.json');
    this.metricsPath = join(o.dir, 'metrics.jsonl');
    this.keepLast = o.keepLast;
    this.resume = resume;
    this.lastStep = lastStep;
  }

  /** Start or resume the run in `o.dir`; see the file comment for what is checked and cleaned. */
  static open<S>(o: RunDirOptions<S>): RunDir<S> {
    if (!Number.isInteger(o.keepLast) || o.keepLast < 1) throw new UserError(`keepLast must be an integer >= 1, got ${o.keepLast}`);
    const configPath = join(o.dir, 'config.json');
    const metricsPath = join(o.dir, 'metrics.jsonl');
    refuseNonRunDir(o.dir, configPath, o.config);
    ensureDir(o.dir, o.dir);
    // one process per run directory: a second one would cut metrics.jsonl and checkpoints under the first
    const release = takeLock(join(o.dir, LOCK_FILE), o.dir, 'another training run', {
      reentrant: true,
      elsewhere: 'another directory (--out)',
    });
    try {
      const latest = listCheckpoints(o.dir).at(-1);
      if (latest) checkSavedConfig(configPath, o.config, o.dir, o.mutable);
      clearInterruptedSaves(o.dir);
      writeJsonAtomic(configPath, o.config);
      const resume = latest ? resumePoint(latest, o.stateSchema) : null;
      if (resume) truncateMetrics(metricsPath, resume.step);
      else rmSync(metricsPath, { force: true });
      releaseAtExit(release); // a killed process leaves a stale lock, which the next run takes over
      return new RunDir(o, resume, resume ? resume.step : -1, release); // a fresh run may log step 0 (e.g. an eval before training)
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Release the run directory's lock (also released when the process exits). */
  close(): void {
    this.release();
    heldLocks.delete(this.release);
  }

  /** The first update this process runs (0 for a fresh run). */
  get startStep(): number {
    return this.resume?.step ?? 0;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Append one step's metrics (fsynced). `step` counts updates completed (0: before the first update); steps
   * must increase, and after a resume start above the checkpoint's step: a row for a logged step is a bug.
   */
  appendMetrics(row: MetricsRow): void {
    if (!Number.isInteger(row.step) || row.step <= this.lastStep) {
      throw new Error(`metrics for step ${row.step} after step ${this.lastStep}: steps must increase`);
    }
    appendJsonl(this.metricsPath, row);
    this.lastStep = row.step;
    failpoint('metrics', row.step);
  }

  readMetrics(): MetricsRow[] {
    return readMetrics(this.metricsPath);
  }

  /**
   * Write checkpoints/step-N atomically (a sibling temp directory renamed into place, trainer_state.json
   * written last inside it), then delete complete checkpoints beyond the newest `keepLast`.
   */
  saveCheckpoint(c: CheckpointInput<S>): string {
    const dir = checkpointDir(this.dir, c.step);
    // weights gone inf or NaN must not become the newest checkpoint (the one a rerun resumes from), nor push good ones
    // out of the last keepLast
    const bad = firstNonFiniteTensor(c.model.trainableParams());
    if (bad !== null)
      throw new UserError(
        `not saving checkpoint step ${c.step}: tensor ${bad} holds inf or NaN; ${checkpointsKept(this.dir)}. ` +
          'Likely causes: non-finite or huge weights in the checkpoint the run started from (a corrupt file), or a learning rate too high for this model',
      );
    // checkpoints/ is the run directory's own: a step saved again is replaced whole, whatever it held
    writeDirAtomic(
      dir,
      (tmp) => {
        saveModel(c.model, tmp, c.modelOptions);
        const opt = c.optimizer.state();
        writeFlatTensors(join(tmp, OPTIMIZER_FILE), opt.tensors);
        if (c.tensors) writeFlatTensors(join(tmp, TENSORS_FILE), c.tensors);
        failpoint('checkpoint', c.step);
        const rng = Object.fromEntries(Object.entries(c.rngs ?? {}).map(([k, r]) => [k, r.state()]));
        const file: TrainerStateFile<S> = { format: TRAINER_STATE_FORMAT, step: c.step, optimizer: opt.meta, rng, state: c.state };
        writeJsonAtomic(join(tmp, TRAINER_STATE_FILE), file);
      },
      () => true,
    );
    const all = listCheckpoints(this.dir);
    for (const old of all.slice(0, Math.max(0, all.length - this.keepLast))) rmSync(old.dir, { recursive: true, force: true });
    return dir;
  }

  /** Complete checkpoints, oldest first. */
  checkpoints(): CheckpointRef[] {
    return listCheckpoints(this.dir);
  }

  /** Write a file in the run directory atomically (report.html, summary.json); returns its path. */
  writeFile(name: string, data: string | Uint8Array): string {
    const path = this.path(name);
    writeFileAtomic(path, data);
    return path;
  }

  writeJson(name: string, value: unknown): string {
    const path = this.path(name);
    writeJsonAtomic(path, value);
    return path;
  }
}

const LOCK_FILE = 'run.lock';

/** The run locks this process holds, released when it exits: one 'exit' listener however many runs it opens. */
const heldLocks = new Set<() => void>();
let exitHooked = false;
function releaseAtExit(release: () => void): void {
  if (!exitHooked) process.once('exit', () => heldLocks.forEach((r) => r()));
  exitHooked = true;
  heldLocks.add(release);
}

/**
 * A run writes config.json and metrics.jsonl into its directory: a model checkpoint given as the run directory by
 * mistake (train --init X --out X) would lose its own config.json. Refused, with the path named; so is a file.
 * So is any other existing folder that is not a run's (a folder of the user's own files, or one whose config.json is
 * some other program's): the run would overwrite config.json, metrics.jsonl and its reports there.
 */
function refuseNonRunDir(dir: string, configPath: string, config: unknown): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir} is a file: give the run a directory (created when missing)`);
  let saved: unknown;
  let hfConfig = hasWeights(dir);
  if (!hfConfig && existsSync(configPath)) {
    try {
      saved = JSON.parse(readFileSync(configPath, 'utf8'));
      hfConfig = isObject(saved) && 'model_type' in saved;
    } catch {
      saved = undefined; // not JSON: judged below
    }
  }
  if (hfConfig)
    throw new UserError(
      `${dir} is a model checkpoint, not a run directory: the run would overwrite its config.json. Give the run a directory of its own (--out), and point --init at the checkpoint`,
    );
  // checkpoints without a config.json (or with an unreadable one) are the saved-config check's to name
  if (listCheckpoints(dir).length) return;
  const entries = readdirSync(dir).filter((n) => n !== LOCK_FILE && n !== 'checkpoints');
  if (!entries.length || looksLikeRunConfig(saved, config)) return;
  const shown = entries.sort().slice(0, 5).join(', ') + (entries.length > 5 ? ` and ${entries.length - 5} more` : '');
  const why = existsSync(configPath) ? 'its config.json is not one this trainer wrote' : "it has no run's config.json";
  throw new UserError(
    `${dir} already exists and holds ${shown}, but is not a run directory (${why}): the run would overwrite config.json, metrics.jsonl and its reports there. ` +
      'Give the run a new or empty directory (--out), or move those files away first',
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * A saved config.json a run of this kind wrote: a JSON object most of whose top-level fields this run's config also
 * has (a run of an older version, or one stopped before its first checkpoint, still qualifies; another program's
 * config.json does not).
 */
function looksLikeRunConfig(saved: unknown, config: unknown): boolean {
  if (!isObject(saved) || !isObject(config)) return false;
  const keys = Object.keys(saved);
  return keys.length > 0 && 2 * keys.filter((k) => k in config).length >= keys.length;
}

/** Temp and half-replaced directories of saves that died (dot names), and step dirs without a trainer state. */
function clearInterruptedSaves(runDir: string): void {
  const root = checkpointsRoot(runDir);
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) if (name.startsWith('.')) rmSync(join(root, name), { recursive: true, force: true });
  for (const d of stepDirs(runDir)) if (!d.complete) rmSync(d.dir, { recursive: true, force: true });
}
