// The reward-model judge flags of the pairwise commands: `--judge-rm DIR` (a built-in RM checkpoint, the
// output of `lwz-train train-rm`) or `--judge-onnx-rm FILE` (a score export), with `--judge-rm-tie-margin`.
// The RM scores each answer in [0, 1]; pairwiseFromScorer turns two scores into a verdict (higher wins, a
// difference under the margin is a tie) and withJudgmentCache stores every verdict on disk before it is used.
// Not a criteria judge: an RM gives one score per answer, so writingbench and longbench-write keep chat judges.
import type { Command } from 'commander';
import { UserError, isUserError, z } from '@lwz/core';
import {
  createBuiltinRmScorer,
  createOnnxRmScorer,
  pairwiseFromScorer,
  withJudgmentCache,
  type PairwiseJudge,
  type VerdictLevels,
} from '@lwz/judges';
import type { QualityScorer } from '@lwz/rewards';

export const rmJudgeOptionsSchema = z.object({
  judgeRm: z.string().min(1).optional(),
  judgeOnnxRm: z.string().min(1).optional(),
  judgeRmTieMargin: z.coerce.number().min(0, 'must be >= 0 (a score difference on the [0, 1] scale)').default(0.02),
});
export type RmJudgeOptions = z.output<typeof rmJudgeOptionsSchema>;

export function addRmJudgeOptions(cmd: Command): Command {
  return cmd
    .option('--judge-rm <dir>', 'reward-model judge instead of a chat judge: a built-in RM checkpoint (`lwz-train train-rm` output)')
    .option('--judge-onnx-rm <file>', 'reward-model judge from an ONNX score export (tokenizer.json and config.json beside it)')
    .option('--judge-rm-tie-margin <x>', 'RM judge: a score difference below this is a tie (scores in [0, 1])', '0.02');
}

/** A reward-model pairwise judge and what must be closed after it. */
export interface RmJudge {
  judge: PairwiseJudge;
  /** the reward model's scorer id (what a GRPO run records as its scorers.quality when it trains against it) */
  scorerId: string;
  close(): Promise<void>;
}

/**
 * The scorer's error in the flags' words: its model option (checkpoint, model) is the flag; the tokenizer, which
 * these commands take from beside the model, is named as a file to put there (no flag sets it).
 */
function asFlag(flag: string, e: unknown): never {
  if (!isUserError(e)) throw e;
  const message = e.message
    .replace(/^quality\.options\.\w+: /, '')
    .replace(/pass quality\.options\.tokenizer: the reward model's tokenizer\.json/g, "put the reward model's tokenizer.json beside it")
    .replace(/quality\.options\.(?:checkpoint|model)\b/g, flag);
  throw new UserError(`${flag}: ${message}`);
}

/**
 * The RM judge the options name, wrapped in the on-disk judgment cache under `cacheDir`; undefined when no
 * RM flag is given. A chat judge flag (--judge-url, --judge-model) beside an RM flag is refused.
 */
export function rmPairwiseJudge(
  o: RmJudgeOptions & {
    judgeUrl?: string;
    judgeModel?: string;
    judgeTemplate?: string;
    judgeSystem?: string;
    judgeKeyEnv?: string;
    judgeSet?: readonly string[];
  },
  levels: VerdictLevels,
  cacheDir: string,
): RmJudge | undefined {
  if (o.judgeRm === undefined && o.judgeOnnxRm === undefined) return undefined;
  if (o.judgeRm !== undefined && o.judgeOnnxRm !== undefined)
    throw new UserError('give one reward-model judge: --judge-rm or --judge-onnx-rm');
  const flag = o.judgeRm !== undefined ? '--judge-rm' : '--judge-onnx-rm';
  if (o.judgeUrl !== undefined || o.judgeModel !== undefined) {
    throw new UserError(
      `${flag} and --judge-url/--judge-model are two different judges: give the reward model or the chat judge, not both`,
    );
  }
  // the chat judge's own settings would do nothing beside a reward model: named, not ignored
  const chatOnly = [
    ['--judge-template', o.judgeTemplate],
    ['--judge-system', o.judgeSystem],
    ['--judge-key-env', o.judgeKeyEnv],
    ['--judge-set', o.judgeSet?.length ? o.judgeSet : undefined],
  ].filter(([, v]) => v !== undefined);
  if (chatOnly.length)
    throw new UserError(
      `${chatOnly.map(([f]) => f).join(', ')} set${chatOnly.length === 1 ? 's' : ''} a chat judge; ${flag} scores with a reward model, which takes none of them`,
    );
  let scorer: QualityScorer & { dispose?: () => void; close?: () => Promise<void> };
  try {
    scorer = o.judgeRm !== undefined ? createBuiltinRmScorer({ checkpoint: o.judgeRm }) : createOnnxRmScorer({ model: o.judgeOnnxRm });
  } catch (e) {
    asFlag(flag, e);
  }
  let judge: PairwiseJudge;
  try {
    judge = pairwiseFromScorer(scorer, { tieMargin: o.judgeRmTieMargin, levels });
  } catch (e) {
    throw new UserError(`--judge-rm-tie-margin: ${(e as Error).message}`);
  }
  return {
    judge: withJudgmentCache(judge, cacheDir),
    scorerId: scorer.id,
    close: async () => {
      scorer.dispose?.();
      await scorer.close?.();
    },
  };
}
