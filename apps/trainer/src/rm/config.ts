// The reward-model training config (`lwz-train train-rm`): one zod schema with documented defaults, the tiny
// preset, `--set key=value` overrides, validated in one place; saved as runs/<name>/config.json. Not the
// scorer's options (those are the rewards config's `quality.options`).
import { UserError, mergeConfig, parseConfig, z } from '@lwz/core';
import { checkPresetOrConfig, readTrainerConfigFile } from '../checkpoints';
import { DEVICES } from '@lwz/kernels';
import { modelRuntimeSchema } from '@lwz/model';
import { DEFAULT_ADAMW, scheduleNameSchema } from '@lwz/optimizer';
import { CORRUPTIONS } from './pairs';

export const rmConfigSchema = z
  .object({
    name: z.string().min(1).default('rm-tiny').describe('run name'),
    out: z.string().min(1).default('runs/rm-tiny').describe('run directory (metrics, checkpoints, report)'),
    corpus: z
      .string()
      .min(1)
      .default('dist/data/corpus')
      .describe('corpus directory (train.jsonl: training pairs, val.jsonl: held-out pairs)'),
    init: z
      .string()
      .min(1)
      .default('runs/pretrain-tiny')
      .describe('start checkpoint (a run directory: its newest checkpoint); a value head is added'),
    device: z.enum(['auto', ...DEVICES]).default('auto'),
    runtime: modelRuntimeSchema.prefault({}),
    seed: z.number().int().nonnegative().default(1),
    types: z
      .array(z.enum(CORRUPTIONS))
      .min(1)
      .default([...CORRUPTIONS])
      .describe('corruption types mixed into every batch, one per pair in turn ("policy" needs policySamples > 0)'),
    words: z
      .tuple([z.number().int().positive(), z.number().int().positive()])
      .default([40, 213])
      .describe('passage length range in words (the answers the RM will score; the tiny GRPO preset asks for 40-213)'),
    dropShare: z.number().gt(0).lt(1).default(0.2).describe('share of words the "drop" corruption removes'),
    policySamples: z
      .number()
      .int()
      .nonnegative()
      .default(96)
      .describe('answers sampled from the start checkpoint on generated training prompts, the rejected side of "policy" pairs'),
    policyMaxNewTokens: z.number().int().positive().default(400),
    maxTokens: z.number().int().min(2).default(512).describe('RM input length cap (rmInputIds)'),
    pairsPerStep: z.number().int().positive().default(8).describe('preference pairs per update (2x sequences)'),
    microBatchTokens: z
      .number()
      .int()
      .positive()
      .default(1536)
      .describe(
        "an update's pairs are forwarded in length-sorted groups of at most this many padded tokens (a longer pair alone), gradients accumulated: the same loss with less padding (1536: an update 1.7-1.8x faster than one padded batch on 2 threads, benchmarks/README.md)",
      ),
    steps: z
      .number()
      .int()
      .positive()
      .default(300)
      .describe(
        'updates (300: +2.8 points of held-out accuracy over 150 on 7 of 8 paired seeds, 73.3 % against 70.4 %, for about 100 s more of updates on 2 threads; session 26, libs/rewards/README.md)',
      ),
    lr: z
      .number()
      .positive()
      .default(5e-4)
      .describe('peak learning rate (5e-4 beat 2e-4 on three of three seeds in session 13: libs/rewards/README.md)'),
    warmupSteps: z.number().int().nonnegative().default(10),
    schedule: scheduleNameSchema
      .default('cosine')
      .describe('learning-rate schedule: constant, cosine or linear (warmup, then decay to minLrRatio x lr)'),
    minLrRatio: z.number().min(0).max(1).default(0.1),
    weightDecay: z.number().min(0).default(DEFAULT_ADAMW.weightDecay),
    gradClip: z.number().min(0).default(1),
    centerCoef: z
      .number()
      .min(0)
      .default(0.01)
      .describe(
        "coef * mean over sequences of score^2 added to the loss, keeping scores near 0; in the spirit of TRL's center_rewards_coefficient, which adds coef * mean over pairs of (s_chosen + s_rejected)^2: this form also shrinks the margin a little and centres 4x more weakly at one coef",
      ),
    tokenCoef: z
      .number()
      .min(0)
      .default(0)
      .describe(
        'coef * mean per-prefix binary cross-entropy of the head against "real text so far" labels (where each corruption starts), beside the Bradley-Terry loss; 0 = off (session 22: no gain at 150 mixed steps, the default then; libs/rewards/README.md)',
      ),
    lmCoef: z
      .number()
      .min(0)
      .default(0)
      .describe('coef * mean next-token NLL of the chosen passages added to the loss (an auxiliary LM loss; 0 = off)'),
    distinctPairs: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe(
        "distinct training pairs: 0 = a fresh pair at every draw; N = the stream's first N pairs, cycled (a fit test: can the RM fit pairs it sees again and again)",
      ),
    heldoutPerType: z.number().int().positive().default(48).describe('held-out pairs per type, from the corpus val split'),
    trainSamplePerType: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe(
        "training pairs per type (the first the run trains on) scored beside the held-out pairs at each evaluation: does a type fail to fit or fail to generalise (0 = off; each costs a held-out pair's time)",
      ),
    evalEvery: z.number().int().positive().default(50),
    checkpointEvery: z.number().int().positive().default(50),
    keepLast: z.number().int().positive().default(2),
  })
  .strict()
  .refine((c) => c.words[0] < c.words[1], { error: 'words must be [lo, hi] with lo < hi', path: ['words'] })
  .refine((c) => !c.types.includes('policy') || c.policySamples > 0, {
    error: 'type "policy" needs policySamples > 0 (or drop "policy" from types)',
    path: ['policySamples'],
  });

export type RmConfig = z.output<typeof rmConfigSchema>;

/** The embedded default: sized for ~4 minutes on an idle 2-core machine. */
export const RM_PRESETS: Record<string, Record<string, unknown>> = {
  tiny: {},
};

export function resolveRmConfig(opts: { preset?: string; config?: string; overrides?: Record<string, unknown> }): RmConfig {
  checkPresetOrConfig(opts);
  let raw: Record<string, unknown>;
  let source: string;
  if (opts.config) {
    raw = readTrainerConfigFile(opts.config);
    source = opts.config;
  } else {
    const name = opts.preset ?? 'tiny';
    if (!RM_PRESETS[name]) throw new UserError(`unknown train-rm preset "${name}" (valid: ${Object.keys(RM_PRESETS).join(', ')})`);
    raw = RM_PRESETS[name];
    source = `preset ${name}`;
  }
  const over = opts.overrides ?? {};
  return parseConfig(rmConfigSchema, mergeConfig(raw, over), `${source}${Object.keys(over).length ? ' + overrides' : ''}`);
}
