// The policy-loss section of a trainer config: a zod schema with documented defaults (the LongWriter-Zero
// paper's: PPO clip 0.2 on both sides, no KL, no entropy bonus, token-mean aggregation), validated in one
// place, and the step that turns it plus a mini-batch's normaliser into PolicyLossOptions. Not the
// trainer's whole config: it nests this object under its own key.
import { z } from '@lwz/core';
import { aggregationNames, lossNormalizer, type TokenMask } from './aggregation';
import { policyLossNames, type PolicyLossOptions } from './policy-loss';

export const policyLossConfigSchema = z
  .object({
    name: z.string().default('ppo-clip').describe('registered policy loss (policyLossNames())'),
    epsLow: z.number().min(0).lt(1).default(0.2).describe('lower clip: ratio floor 1 - epsLow for A < 0 (paper: 0.2)'),
    epsHigh: z.number().min(0).default(0.2).describe('upper clip: ratio ceiling 1 + epsHigh for A > 0 (paper: 0.2; DAPO: 0.28)'),
    clipRatioC: z
      .number()
      .gt(1)
      .optional()
      .describe("dual clip: for A < 0 the token loss is at most -A clipRatioC (verl's clip_ratio_c, 3 there); unset = off (the paper)"),
    klCoef: z.number().min(0).default(0).describe('beta of the k3 KL to the frozen reference (paper: 0, no reference)'),
    entropyCoef: z.number().min(0).default(0).describe('entropy bonus coefficient (0 = off)'),
    aggregation: z.string().default('token-mean').describe('token-mean | seq-mean-token-mean | seq-mean-token-sum-norm'),
    maxLength: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('constant L of seq-mean-token-sum-norm (Dr. GRPO): the max answer tokens; required for that aggregation'),
  })
  .superRefine((c, ctx) => {
    if (!policyLossNames().includes(c.name))
      ctx.addIssue({ code: 'custom', path: ['name'], message: `unknown policy loss "${c.name}" (valid: ${policyLossNames().join(', ')})` });
    if (!aggregationNames().includes(c.aggregation))
      ctx.addIssue({
        code: 'custom',
        path: ['aggregation'],
        message: `unknown loss aggregation "${c.aggregation}" (valid: ${aggregationNames().join(', ')})`,
      });
    if (c.aggregation === 'seq-mean-token-sum-norm' && c.maxLength === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['maxLength'],
        message: 'seq-mean-token-sum-norm needs maxLength (the max answer tokens), e.g. policyLoss.maxLength=2048',
      });
  });

export type PolicyLossConfig = z.output<typeof policyLossConfigSchema>;

/**
 * The options of one optimizer step: the validated config plus the global normaliser of that step's whole
 * mini-batch, computed here from every micro-batch's mask (so no caller normalises per micro-batch).
 */
export function policyLossOptions(config: PolicyLossConfig, miniBatch: readonly TokenMask[]): PolicyLossOptions {
  const { epsLow, epsHigh, clipRatioC, klCoef, entropyCoef, aggregation } = config;
  return {
    epsLow,
    epsHigh,
    clipRatioC: clipRatioC ?? Infinity,
    klCoef,
    entropyCoef,
    aggregation,
    normalizer: lossNormalizer(miniBatch, config.maxLength ?? 0),
  };
}
