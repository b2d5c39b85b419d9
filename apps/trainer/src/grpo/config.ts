// GRPO config: one zod schema with documented defaults, the presets (tiny, tiny-direct, tiny-base,
// qwen2.5-0.5b) as plain objects over it, and `--set key=value` overrides, validated in one place. The
// resolved config is saved as runs/<name>/config.json. The numbers of a preset (G, clip, lengths,
// temperature, learning rate) live here only: export-recipe and the report read them from here.
import { UserError, mergeConfig, parseConfig, z } from '@lwz/core';
import { checkPresetOrConfig, readTrainerConfigFile } from '../checkpoints';
import { EMBEDDED_LENGTH_BUDGET } from '@lwz/data';
import '@lwz/judges'; // registers the quality scorers (chat-judge, builtin-rm, onnx-rm) and the "llm" length predictor
import { DEVICES } from '@lwz/kernels';
import { modelOverridesSchema, modelRuntimeSchema } from '@lwz/model';
import { DEFAULT_ADAMW, policyLossConfigSchema, scheduleNameSchema } from '@lwz/optimizer';
import { mergeRewardsConfig, rewardsConfigSchema } from '@lwz/rewards';

const budgetSchema = z
  .object({
    contextTokens: z.number().int().positive(),
    reservedTokens: z.number().int().nonnegative(),
    tokensPerWord: z.number().positive(),
    minWords: z.number().int().positive(),
  })
  .strict();

export const grpoConfigSchema = z
  .object({
    name: z.string().min(1).default('grpo-tiny').describe('run name'),
    out: z.string().min(1).default('runs/grpo-tiny').describe('run directory (metrics, checkpoints, report)'),
    device: z.enum(['auto', ...DEVICES]).default('auto'),
    seed: z.number().int().nonnegative().default(1),
    template: z.enum(['think', 'direct']).default('think').describe('think: <think> plan then <answer>; direct: <answer> only (ablation)'),
    model: z
      .object({
        init: z
          .string()
          .min(1, 'must not be empty: give a checkpoint or run directory, or leave it unset for a random init')
          .optional()
          .describe(
            'start checkpoint: a Hugging Face directory, or a run directory (its newest checkpoint); absent: random init of `preset`',
          ),
        preset: z.string().default('tiny').describe('model preset for a random init (only without init)'),
        overrides: modelOverridesSchema.optional().describe('numeric ModelConfig fields over the preset (random init only)'),
        tokenizer: z
          .string()
          .min(1, 'must not be empty: give a directory holding tokenizer.json')
          .default('dist/data/tokenizer')
          .describe('tokenizer directory for a random init (a checkpoint brings its own)'),
        lora: z
          .object({ rank: z.number().int().positive(), alpha: z.number().positive(), targets: z.array(z.string()).min(1).optional() })
          .strict()
          .optional()
          .describe('train LoRA adapters only (saved merged); absent: full fine-tuning'),
        runtime: modelRuntimeSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    prompts: z
      .object({
        file: z
          .string()
          .min(1, 'must not be empty: give a prompt file, or leave it unset for generated prompts')
          .optional()
          .describe('prompt file (any format @lwz/data loads); absent: generated prompts'),
        generator: z
          .object({
            seed: z.number().int().nonnegative().default(0),
            train: z.number().int().positive().default(2000),
            heldout: z.number().int().positive().default(200),
            heldoutTopicFraction: z.number().gt(0).lt(1).default(0.2),
            budget: budgetSchema.default(EMBEDDED_LENGTH_BUDGET).describe('answer lengths the generated prompts ask for'),
          })
          .strict()
          .prefault({}),
        perStep: z.number().int().positive().default(8).describe('prompts per step (each sampled G times)'),
        skipLong: z
          .boolean()
          .default(false)
          .describe(
            "leave out the prompt file's rows that leave no room for an answer in the model's context (default: an error naming them)",
          ),
      })
      .strict()
      .prefault({}),
    rollout: z
      .object({
        n: z.number().int().min(2).default(8).describe('G: answers per prompt'),
        temperature: z.number().gt(0).default(1),
        topP: z.number().gt(0).max(1).default(1),
        maxNewTokens: z.number().int().positive().default(512),
        maxBatch: z.number().int().positive().default(64).describe('local engine: answers decoded together'),
        url: z
          .array(z.string().url())
          .optional()
          .describe('generate on OpenAI-compatible servers (vLLM, `serve`) at these base URLs; absent: the local engine'),
        model: z.string().optional().describe('served model name for `url` (default: the first /v1/models entry)'),
        syncCommand: z
          .string()
          .optional()
          .describe(
            'with `url`: shell command run after each update once the policy is written to <out>/policy (env LWZ_POLICY_DIR, LWZ_STEP); it must make the servers load it',
          ),
      })
      .strict()
      .prefault({}),
    rewards: rewardsConfigSchema.prefault({}),
    loss: policyLossConfigSchema.prefault({}),
    optim: z
      .object({
        lr: z.number().positive().default(1e-6),
        schedule: scheduleNameSchema
          .default('constant')
          .describe('learning-rate schedule: constant, cosine or linear (warmup, then decay to minLrRatio x lr)'),
        warmupSteps: z.number().int().nonnegative().default(0),
        minLrRatio: z
          .number()
          .min(0)
          .max(1)
          .default(0.1)
          .describe("floor of the cosine and linear decay, a share of lr (pretrain's and train-rm's default; 1 turned their decay off)"),
        weightDecay: z.number().min(0).default(DEFAULT_ADAMW.weightDecay),
        beta1: z.number().min(0).lt(1).default(DEFAULT_ADAMW.beta1),
        beta2: z.number().min(0).lt(1).default(DEFAULT_ADAMW.beta2),
        gradClip: z.number().min(0).default(1).describe('global-norm clip (0 = off)'),
      })
      .strict()
      .prefault({}),
    steps: z.number().int().positive().default(100).describe('GRPO steps (one rollout batch each)'),
    ppoEpochs: z.number().int().positive().default(1).describe('passes over each rollout batch'),
    miniBatches: z.number().int().positive().default(1).describe('optimizer updates per epoch (the batch split by prompt groups)'),
    microBatchTokens: z
      .number()
      .int()
      .positive()
      .default(2048)
      .describe(
        'forward/backward chunk, in padded tokens: rows are packed length-sorted, so a smaller budget pads less (tiny: an update 1.26-1.49x faster at 2048 than at 8192 in three runs, benchmarks/README.md)',
      ),
    recomputeOldLogprobs: z
      .boolean()
      .default(false)
      .describe("old log-probs from a no-grad forward (logs rollout/logprob_abs_diff) instead of the local rollout's own"),
    klToStart: z
      .boolean()
      .default(true)
      .describe('log policy/kl_start, the KL to the start policy (an extra no-grad forward of a frozen copy, every klEvery steps)'),
    klEvery: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe(
        'with klToStart and loss.klCoef 0, measure policy/kl_start at step 1 and every klEvery steps (1: every step); the forward cost about a fifth of each update on tiny. With klCoef > 0 the KL is in the loss and computed every step',
      ),
    checkpointEvery: z.number().int().positive().default(10),
    keepLast: z.number().int().positive().default(2),
    reportEvery: z.number().int().positive().default(5).describe('regenerate report.html every N steps'),
    sampleSteps: z.number().int().positive().default(10).describe('keep one sample answer every N steps for the report'),
    evaluation: z
      .object({
        prompts: z.number().int().min(0).default(24).describe('held-out prompts sampled before and after (0 = skip)'),
        temperature: z.number().min(0).default(0.7),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.rewards.template !== c.template)
      ctx.addIssue({ code: 'custom', path: ['rewards', 'template'], message: `must equal template ("${c.template}"); leave it unset` });
    if (c.optim.warmupSteps > c.steps)
      ctx.addIssue({
        code: 'custom',
        path: ['optim', 'warmupSteps'],
        message: `at most steps (${c.steps}): a longer warmup never reaches the peak learning rate`,
      });
    if (c.miniBatches > c.prompts.perStep)
      ctx.addIssue({
        code: 'custom',
        path: ['miniBatches'],
        message: `at most prompts.perStep (${c.prompts.perStep}): a step's answers are split by prompt group, so more would give fewer updates than asked`,
      });
    if (c.loss.aggregation === 'seq-mean-token-sum-norm' && c.loss.maxLength !== c.rollout.maxNewTokens)
      ctx.addIssue({ code: 'custom', path: ['loss', 'maxLength'], message: `set it to rollout.maxNewTokens (${c.rollout.maxNewTokens})` });
  });

export type GrpoConfig = z.output<typeof grpoConfigSchema>;

/**
 * The embedded default: the pretrained tiny base, generated prompts of 40-213 words, G = 8. Sized for the
 * whole `trainer:train` chain to fit 30 minutes on 2 cores: one step (32 answers of <= 400 tokens, then the
 * update) takes ~7.5 s on an idle 2-core EPYC (Zen 4, after #15's kernels), so 100 steps (~12.5 minutes). At 60
 * steps held-out format validity stopped at 83 %: the failures were a doubled <answer> opening tag.
 */
const tiny = {
  name: 'grpo-tiny',
  out: 'runs/grpo-tiny',
  model: { init: 'runs/pretrain-tiny' },
  prompts: { perStep: 4 },
  rollout: { n: 8, temperature: 1, maxNewTokens: 400, maxBatch: 32 },
  // quality: the built-in reward model from `trainer:train-rm` (Bradley-Terry on corpus preference pairs)
  // formatGate (not in the paper): broken structure earns no length or quality reward. Without it a fresh-clone
  // chain at 8af08ad traded format for length and RM score: held-out format validity 8 % -> 0 % (issue #11)
  // length weight 2 (not in the paper, which averages the three advantages equally): the built-in RM holds no length
  // preference and the format gate zeroes answers that run past the cap, so at 1:1:1 two of three advantages paid for
  // short answers. Five GRPO seeds from one pretrained model and RM, each scored on all 200 held-out prompts x 4
  // samples (session 36, issue #11): paired S_l difference RL - base at weight 1: -12.7, -4.3, +27.0, +23.7, -37.6
  // (the last collapsed to 1 % valid format, 9 words); at weight 2: +16.9, +17.9, +15.9, +24.9, +13.0
  rewards: {
    formatGate: true,
    quality: { scorer: 'builtin-rm', options: { checkpoint: 'runs/rm-tiny/model' } },
    combination: { name: 'advantage-average', weights: { length: 2, format: 1, quality: 1 } },
  },
  loss: { epsLow: 0.2, epsHigh: 0.28 },
  optim: { lr: 3e-4, warmupSteps: 3, gradClip: 1 },
  steps: 100,
  ppoEpochs: 1,
  miniBatches: 2,
  checkpointEvery: 10,
};

export const GRPO_PRESETS: Record<string, Record<string, unknown>> = {
  tiny,
  /** the paper's no-think ablation: the direct template, format = one <answer> block */
  'tiny-direct': {
    ...tiny,
    name: 'grpo-tiny-direct',
    out: 'runs/grpo-tiny-direct',
    template: 'direct',
    rewards: { ...tiny.rewards, template: 'direct' },
  },
  /** the no-continual-pretraining ablation: RL from a random init of the same shape */
  'tiny-base': { ...tiny, name: 'grpo-tiny-base', out: 'runs/grpo-tiny-base', model: { preset: 'tiny' } },
  /** a local Hugging Face Qwen2.5-0.5B(-Instruct) checkpoint (--init DIR); LoRA with recomputed activations */
  'qwen2.5-0.5b': {
    name: 'grpo-qwen2.5-0.5b',
    out: 'runs/grpo-qwen2.5-0.5b',
    model: { lora: { rank: 16, alpha: 32, targets: ['q', 'k', 'v', 'o'] }, runtime: { recompute: true } },
    prompts: { perStep: 8, generator: { budget: { contextTokens: 8192, reservedTokens: 512, tokensPerWord: 1.4, minWords: 200 } } },
    rollout: { n: 8, temperature: 0.8, topP: 1, maxNewTokens: 6144, maxBatch: 64 },
    loss: { epsLow: 0.2, epsHigh: 0.28 },
    optim: { lr: 1e-5, warmupSteps: 10 },
    steps: 200,
    miniBatches: 4,
    microBatchTokens: 16384,
  },
};

export function presetNames(): string[] {
  return Object.keys(GRPO_PRESETS);
}

/** Preset (or config file) + overrides -> a validated config. */
export function resolveGrpoConfig(opts: { preset?: string; config?: string; overrides?: Record<string, unknown> }): GrpoConfig {
  checkPresetOrConfig(opts);
  let raw: unknown;
  let source: string;
  if (opts.config) {
    raw = readTrainerConfigFile(opts.config);
    source = opts.config;
  } else {
    const name = opts.preset ?? 'tiny';
    const preset = GRPO_PRESETS[name];
    if (!preset) throw new UserError(`unknown GRPO preset "${name}" (valid: ${presetNames().join(', ')})`);
    raw = preset;
    source = `preset ${name}`;
  }
  const over = opts.overrides ?? {};
  const merged = mergeConfig(raw as Record<string, unknown>, over);
  // the rewards block merges by its own rule: another quality scorer or length predictor drops the preset's options
  const [rawRewards, overRewards] = [(raw as Record<string, unknown>).rewards, over.rewards];
  if (overRewards && typeof overRewards === 'object')
    merged.rewards = mergeRewardsConfig((rawRewards ?? {}) as Record<string, unknown>, overRewards as Record<string, unknown>);
  return parseConfig(grpoConfigSchema, merged, `${source}${Object.keys(over).length ? ' + overrides' : ''}`);
}

/**
 * What a reader of the printed config could take for settings in force but is not: with model.init the checkpoint's
 * config.json and tokenizer.json set the model, so model.preset, model.overrides and model.tokenizer (filled by
 * default) are not used.
 */
export function grpoConfigNotes(cfg: GrpoConfig): string[] {
  if (cfg.model.init === undefined) return [];
  const unused = ['model.preset', ...(cfg.model.overrides ? ['model.overrides'] : []), 'model.tokenizer'];
  return [`model.init ${cfg.model.init}: its config.json and tokenizer.json set the model; ${unused.join(', ')} above are not used`];
}
