// Pretraining config: one zod schema with documented defaults, read from a preset file (presets/*.json)
// plus `--set key=value` overrides, validated in one place. The resolved config is printed and saved as
// runs/<name>/config.json. Not the RL config (that arrives with the GRPO trainer).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, mergeConfig, parseConfig, z } from '@lwz/core';
import { checkPresetOrConfig, readTrainerConfigFile } from '../checkpoints';
import { DEVICES } from '@lwz/kernels';
import { modelOverridesSchema, modelRuntimeSchema } from '@lwz/model';
import { DEFAULT_ADAMW, scheduleNameSchema } from '@lwz/optimizer';

export const pretrainConfigSchema = z
  .object({
    name: z.string().min(1).default('pretrain-tiny').describe('run name'),
    out: z.string().min(1).default('runs/pretrain-tiny').describe('run directory (metrics, checkpoints, report)'),
    data: z.string().min(1).default('dist/data/shards').describe('packed shards from `nx run data:prepare`'),
    tokenizer: z.string().min(1).default('dist/data/tokenizer').describe('directory with tokenizer.json'),
    model: z
      .object({
        preset: z.string().default('tiny').describe('model preset for a random init'),
        init: z
          .string()
          .min(1, 'must not be empty: give a checkpoint or run directory, or leave it unset for a random init')
          .optional()
          .describe(
            "checkpoint to continue pretraining from (the paper's continual pretraining): a Hugging Face directory, or a run directory (its newest checkpoint)",
          ),
        overrides: modelOverridesSchema.optional().describe('numeric ModelConfig fields over the preset, e.g. {"numLayers": 2}'),
        runtime: modelRuntimeSchema
          .prefault({})
          .describe(
            'how the model computes, e.g. {"recompute": true} (--set model.runtime.recompute=true); defaults in libs/model runtime.ts',
          ),
      })
      .strict()
      .prefault({}),
    device: z.enum(['auto', ...DEVICES]).default('auto'),
    seed: z.number().int().nonnegative().default(1),
    steps: z.number().int().min(1).default(300).describe('optimizer updates'),
    batchSize: z.number().int().min(1).default(8).describe('sequences per update (B)'),
    seqLen: z.number().int().min(2).default(256).describe('tokens per sequence (T)'),
    lr: z.number().positive().default(3e-3).describe('peak learning rate'),
    schedule: scheduleNameSchema
      .default('cosine')
      .describe('learning-rate schedule: constant, cosine or linear (warmup, then decay to minLrRatio x lr)'),
    warmupSteps: z.number().int().nonnegative().default(20),
    minLrRatio: z.number().min(0).max(1).default(0.1),
    weightDecay: z.number().min(0).default(DEFAULT_ADAMW.weightDecay),
    beta1: z.number().min(0).lt(1).default(DEFAULT_ADAMW.beta1),
    beta2: z.number().min(0).lt(1).default(DEFAULT_ADAMW.beta2),
    gradClip: z.number().min(0).default(1).describe('global-norm clip (0 = off)'),
    repeatSpans: z
      .object({
        share: z.number().min(0).max(1).describe('share of training windows that get a repeated span (0 = off)'),
        minTokens: z.number().int().min(1).default(8).describe('shortest span, tokens'),
        maxTokens: z.number().int().min(1).default(64).describe('longest span, tokens; two copies must fit seqLen + 1'),
      })
      .strict()
      .refine((r) => r.minTokens <= r.maxTokens, { message: 'repeatSpans.minTokens must be <= repeatSpans.maxTokens' })
      .optional()
      .describe(
        'copy a random span of a window to a later place in it, in this share of training windows (plain next-token loss, so copying ' +
          'in context is rewarded: grows induction heads; issue #11); unset = off, validation windows are never changed',
      ),
    randomRepeats: z
      .object({
        share: z.number().min(0).max(1).describe('share of training windows that get a repeated random sequence (0 = off)'),
        minTokens: z.number().int().min(2).default(16).describe('shortest sequence, tokens'),
        maxTokens: z.number().int().min(2).default(64).describe('longest sequence, tokens; copies * maxTokens must fit seqLen + 1'),
        copies: z.number().int().min(2).default(2).describe('times the sequence is written back to back'),
        topTokens: z.number().int().min(2).default(1024).describe("tokens are drawn uniformly from the training split's most frequent"),
        startRamp: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe(
            'updates over which the latest start of the sequence grows from window position 0 to the window end (a curriculum: ' +
              'copying at the window start first, then after more and more text); 0 = anywhere from the first update',
          ),
      })
      .strict()
      .refine((r) => r.minTokens <= r.maxTokens, { message: 'randomRepeats.minTokens must be <= randomRepeats.maxTokens' })
      .optional()
      .describe(
        'write a random token sequence `copies` times back to back into this share of training windows (plain next-token loss: from ' +
          'the second copy on only copying predicts it; the easy setting for induction heads, issue #11); logs train/copy_loss; ' +
          'unset = off, validation windows are never changed',
      ),
    evalEvery: z.number().int().min(1).default(50).describe('validation every N steps (and at the end)'),
    evalBatches: z.number().int().min(1).default(8),
    checkpointEvery: z.number().int().min(1).default(50),
    keepLast: z.number().int().min(1).default(2).describe('checkpoints kept (older ones are deleted)'),
    samples: z
      .object({
        prompts: z
          .array(z.string().min(1, 'must not be empty (an empty prompt gives the model nothing to continue)'))
          .default(['Fellow citizens', 'Call me Ishmael.', 'The sea was']),
        maxNewTokens: z.number().int().min(1).default(60),
        temperature: z.number().min(0).default(0.8),
      })
      .strict()
      .default({ prompts: ['Fellow citizens', 'Call me Ishmael.', 'The sea was'], maxNewTokens: 60, temperature: 0.8 }),
  })
  .strict()
  .refine((c) => !c.repeatSpans || 2 * c.repeatSpans.maxTokens <= c.seqLen + 1, {
    message: 'repeatSpans.maxTokens: two copies of the longest span must fit a window of seqLen + 1 tokens',
    path: ['repeatSpans', 'maxTokens'],
  })
  .refine((c) => !c.randomRepeats || c.randomRepeats.copies * c.randomRepeats.maxTokens <= c.seqLen + 1, {
    message: 'randomRepeats: copies * maxTokens must fit a window of seqLen + 1 tokens',
    path: ['randomRepeats', 'maxTokens'],
  });

export type PretrainConfig = z.output<typeof pretrainConfigSchema>;

const presetDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'presets');

export function presetPath(name: string): string {
  const path = join(presetDir, `pretrain-${name}.json`);
  if (!existsSync(path)) {
    const valid = readdirSync(presetDir)
      .map((f) => /^pretrain-(.+)\.json$/.exec(f)?.[1])
      .filter((n) => n !== undefined);
    throw new UserError(`unknown pretrain preset "${name}" (valid: ${valid.join(', ')}); or give a config file with --config`);
  }
  return path;
}

/** Preset (or config file) + overrides -> a validated config. */
export function resolvePretrainConfig(opts: { preset?: string; config?: string; overrides?: Record<string, unknown> }): PretrainConfig {
  checkPresetOrConfig(opts);
  const file = opts.config ?? presetPath(opts.preset ?? 'tiny');
  const raw = mergeConfig(readTrainerConfigFile(file), opts.overrides ?? {});
  return parseConfig(pretrainConfigSchema, raw, `${file}${opts.overrides && Object.keys(opts.overrides).length ? ' + overrides' : ''}`);
}
