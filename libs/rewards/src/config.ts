// The rewards config: one zod schema with documented defaults, validated in one place (parseRewardsConfig),
// naming the field and the valid choices on error. Registry names (estimator, combination, quality scorer,
// length predictor) are checked against what is registered when the config is parsed.
import { mergeConfig, parseConfig, z } from '@lwz/core';
import type { TemplateName } from '@lwz/tokenizer';
import { hasRewardCombination, rewardCombinationNames } from './advantage/combinations';
import { advantageEstimatorNames, hasAdvantageEstimator } from './advantage/estimators';
import type { LmaxRule } from './length/length-reward';
import { hasLengthPredictor, lengthPredictorNames } from './length/predictor-registry';
import { hasQualityScorer, qualityScorerNames } from './quality/scorer';

const registered = (has: (n: string) => boolean, names: () => string[], what: string) =>
  z.string().refine(has, { error: (issue) => `unknown ${what} ${JSON.stringify(issue.input)} (valid: ${names().join(', ')})` });

const options = z.record(z.string(), z.unknown()).default({});

export const rewardsConfigSchema = z
  .object({
    template: z
      .enum(['think', 'direct'] as const satisfies readonly TemplateName[])
      .default('think')
      .describe('completion structure the format reward checks'),
    formatGate: z
      .boolean()
      .default(false)
      .describe(
        'zero the length and quality rewards of a completion whose structure is broken (not in the paper): without it a policy ' +
          'can trade the format reward for length and quality, and once a whole group is broken the format reward has no spread left to pull it back',
      ),
    length: z
      .object({
        lmax: z
          .object({
            rule: z.enum(['hi-multiple', 'fixed']).default('hi-multiple'),
            factor: z.number().gt(1).default(2).describe('hi-multiple: Lmax = factor * hi'),
            words: z.number().int().positive().optional().describe('fixed: Lmax in words for every prompt'),
          })
          .strict()
          .refine((l) => l.rule !== 'fixed' || l.words !== undefined, {
            error: 'rule "fixed" needs words (the cap in words)',
            path: ['words'],
          })
          .prefault({})
          .describe('where the reward of a too-long answer reaches 0: factor * hi, or a fixed number of words'),
        predictor: z
          .object({ name: registered(hasLengthPredictor, lengthPredictorNames, 'length predictor').default('builtin'), options })
          .strict()
          .prefault({})
          .describe('target range for prompts with no length_range and no explicit requirement'),
      })
      .strict()
      .prefault({}),
    repetition: z
      .object({
        ngram: z.number().int().min(1).default(4),
        paragraphNgram: z.number().int().min(1).default(3),
        minParagraphWords: z.number().int().min(1).default(8),
        nearDuplicate: z.number().gt(0).max(1).default(0.5),
        ngramFree: z.number().min(0).max(1).default(0.1),
        ngramFull: z.number().min(0).max(1).default(0.4),
        paragraphFree: z.number().min(0).max(1).default(0),
        paragraphFull: z.number().min(0).max(1).default(0.3),
      })
      .strict()
      .refine((r) => r.ngramFull > r.ngramFree, { error: 'ngramFull must be greater than ngramFree', path: ['ngramFull'] })
      .refine((r) => r.paragraphFull > r.paragraphFree, {
        error: 'paragraphFull must be greater than paragraphFree',
        path: ['paragraphFull'],
      })
      .prefault({}),
    quality: z
      .object({ scorer: registered(hasQualityScorer, qualityScorerNames, 'quality scorer').default('constant'), options })
      .strict()
      .prefault({}),
    combination: z
      .object({
        name: registered(hasRewardCombination, rewardCombinationNames, 'reward combination').default('advantage-average'),
        weights: z
          .object({ length: z.number().min(0).default(1), format: z.number().min(0).default(1), quality: z.number().min(0).default(1) })
          .strict()
          .refine((w) => w.length + w.format + w.quality > 0, { error: 'at least one weight must be positive' })
          .prefault({}),
      })
      .strict()
      .prefault({}),
    estimator: z
      .object({
        name: registered(hasAdvantageEstimator, advantageEstimatorNames, 'advantage estimator').default('grpo'),
        std: z.enum(['sample', 'population']).default('sample').describe('group std with ddof 1 (torch.std) or 0'),
        eps: z.number().min(0).default(1e-6).describe('added to the group std before dividing'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RewardsConfig = z.output<typeof rewardsConfigSchema>;

type Obj = Record<string, unknown>;
const objAt = (o: unknown, ...path: string[]): Obj | undefined => {
  let x = o;
  for (const k of path) x = x && typeof x === 'object' ? (x as Obj)[k] : undefined;
  return x && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : undefined;
};

/**
 * mergeConfig for a raw rewards config (a file or preset, then overrides), with one rule of its own: a scorer's or
 * predictor's options belong to it, so where `over` names another quality scorer (`quality.scorer`) or length
 * predictor (`length.predictor.name`) than `base`, base's options for it are dropped, not merged into the new one's
 * (the builtin-rm's `checkpoint` is no option of chat-judge). The same one named again merges as everywhere else.
 */
export function mergeRewardsConfig(base: Obj, over: Obj): Obj {
  const merged = mergeConfig(base, over);
  for (const [path, nameKey] of [
    [['quality'], 'scorer'],
    [['length', 'predictor'], 'name'],
  ] as const) {
    const o = objAt(over, ...path);
    const m = objAt(merged, ...path);
    if (!o || !m || o[nameKey] === undefined || o[nameKey] === objAt(base, ...path)?.[nameKey]) continue;
    m.options = objAt(o, 'options') ?? {};
  }
  return merged;
}

/** Validate a raw config (from a file, a preset, overrides); `source` names it in errors. */
export function parseRewardsConfig(raw: unknown = {}, source = 'rewards config'): RewardsConfig {
  return parseConfig(rewardsConfigSchema, raw, source);
}

/** The length reward's Lmax rule from a parsed config. */
export function lmaxRuleOf(config: RewardsConfig): LmaxRule {
  const l = config.length.lmax;
  return l.rule === 'fixed' ? { rule: 'fixed', words: l.words as number } : { rule: 'hi-multiple', factor: l.factor };
}
