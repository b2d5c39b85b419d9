// Where a start checkpoint is: a checkpoint directory, or a run directory's newest checkpoint; and the
// fingerprint a run directory's config records so that a run never resumes on a changed start checkpoint.
// Shared by the training commands' --init and the other commands' --checkpoint, with the tokenizer a start
// checkpoint brings. Not the RunDir itself (@lwz/training).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, readConfigFile } from '@lwz/core';
import { checkCausalLm, checkVocabCovers } from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { listCheckpoints } from '@lwz/training';

/** A checkpoint directory, or a run directory's newest checkpoint; `flag` names the option in the error. */
export function resolveCheckpoint(path: string, flag = '--init'): string {
  if (existsSync(join(path, 'config.json')) && existsSync(join(path, 'model.safetensors'))) return path;
  if (existsSync(join(path, 'model.safetensors.index.json'))) return path;
  const ckpts = existsSync(join(path, 'checkpoints')) ? listCheckpoints(path) : [];
  if (ckpts.length) return ckpts[ckpts.length - 1].dir;
  throw new UserError(
    `${path}: not a checkpoint directory (config.json + model.safetensors) nor a run directory with checkpoints/; point ${flag} at one (npx nx run trainer:pretrain makes runs/pretrain-tiny)`,
  );
}

/**
 * resolveCheckpoint, for a start that must be a causal LM (pretraining, GRPO's policy, a reward model's trunk): a
 * reward model is refused by name (checkCausalLm); `hint` says what the user may have meant.
 */
export function resolveLanguageModel(path: string, flag: string, what: string, hint = ''): string {
  const dir = resolveCheckpoint(path, flag);
  checkCausalLm(
    dir,
    `${what} starts from a causal LM checkpoint such as runs/pretrain-tiny${hint ? ` (${hint})` : ''}`,
    `${flag} ${path}: `,
  );
  return dir;
}

/**
 * What a run adds to its saved config.json beside the config proper (fingerprints of its inputs, the resolved
 * start): readTrainerConfigFile drops them, so a run's config.json can be given back as --config.
 */
export const RUN_RECORD_KEYS = ['start', 'scorers', 'shards', 'initFingerprint', 'corpusFingerprint', 'promptsFingerprint'] as const;

/** --preset and --config of a training command: one or the other (neither: the command's default preset). */
export function checkPresetOrConfig(opts: { preset?: string; config?: string }): void {
  if (opts.config !== undefined && opts.preset !== undefined)
    throw new UserError(`give --preset ${opts.preset} or --config ${opts.config}, not both: the config file replaces the preset whole`);
}

/** A --config file for the training commands: a user's JSON, or a run's own config.json (its run record dropped). */
export function readTrainerConfigFile(path: string): Record<string, unknown> {
  const raw = readConfigFile(path);
  for (const k of RUN_RECORD_KEYS) delete raw[k];
  return raw;
}

/**
 * Config fields a resumed run may change (RunDir's `mutable`): how many checkpoints are kept, how often the report
 * is redrawn and samples kept for it, and the model's runtime knobs (memory, never numbers). Anything else changes
 * what the run computes and is refused.
 */
export const RESUME_MUTABLE = ['keepLast', 'reportEvery', 'sampleSteps', 'model.runtime', 'runtime'] as const;

/**
 * sha256 (16 hex digits) of data a run reads from a user's file (GRPO's prompt rows, train-rm's corpus), for the
 * checked config: the file's path alone would let a run resume on an edited file.
 */
export function contentFingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** sha256 (16 hex digits) of a checkpoint's config.json and weights (the shard index when sharded). */
export function checkpointFingerprint(dir: string): string {
  const h = createHash('sha256').update(readFileSync(join(dir, 'config.json')));
  const single = join(dir, 'model.safetensors');
  const file = existsSync(single) ? single : join(dir, 'model.safetensors.index.json');
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The tokenizer a start checkpoint brings (its tokenizer.json), read before the run directory is made: missing, or
 * giving ids past the checkpoint's vocabulary, is an error saying what to do. `why`: what the command reads with it.
 */
export function checkpointTokenizer(dir: string, why: string): Tokenizer {
  const file = join(dir, 'tokenizer.json');
  if (!existsSync(file))
    throw new UserError(
      `${dir} has no tokenizer.json (${why}): copy the tokenizer.json and tokenizer_config.json the checkpoint was trained with into it`,
    );
  const tokenizer = Tokenizer.fromFile(file);
  checkVocabCovers(dir, tokenizer.vocabSize, file);
  return tokenizer;
}

/**
 * A start checkpoint's embeddings belong to the ids of the tokenizer.json it brings: continuing on ids of another
 * tokenizer (shards made with it) would train each row as some other token, silently. Refused at the first id the two
 * spell differently (ids past the shorter vocabulary may be new tokens); a checkpoint without tokenizer.json (a
 * bare random init) is taken as it is.
 */
export function checkSameTokenizer(dir: string, tokenizer: Tokenizer, tokenizerFile: string, fix: string): void {
  const own = join(dir, 'tokenizer.json');
  if (!existsSync(own)) return;
  const theirs = Tokenizer.fromFile(own);
  const n = Math.min(theirs.vocabSize, tokenizer.vocabSize);
  for (let id = 0; id < n; id++) {
    const a = theirs.idToToken(id);
    const b = tokenizer.idToToken(id);
    if (a !== b)
      throw new UserError(
        `${own} is not the tokenizer ${tokenizerFile}: id ${id} is ${JSON.stringify(a ?? null)} in the checkpoint's and ${JSON.stringify(b ?? null)} in the other, ` +
          `so the checkpoint's embeddings would be trained as other tokens; ${fix}`,
      );
  }
}
