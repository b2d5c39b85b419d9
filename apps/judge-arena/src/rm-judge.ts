// The reward-model judge flags of the pairwise commands: `--judge-rm DIR` (a built-in RM checkpoint, the
// output of `lwz-train train-rm`) or `--judge-onnx-rm FILE` (a score export), with `--judge-rm-tie-margin`.
// The RM scores each answer in [0, 1]; pairwiseFromScorer turns two scores into a verdict (higher wins, a
// difference under the margin is a tie) and withJudgmentCache stores every verdict on disk before it is used.
// Flags of the other judge kind are refused by name, not ignored: the margin with a chat judge, the chat judge's
// own flags (judge-options' CHAT_JUDGE_FLAGS, as the user gave them) beside a reward model.
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

/** --judge-rm-tie-margin's default (undefined in the options: the user gave none, so a chat judge may run). */
export const DEFAULT_RM_TIE_MARGIN = 0.02;

export const rmJudgeOptionsSchema = z.object({
  judgeRm: z.string().min(1).optional(),
  judgeOnnxRm: z.string().min(1).optional(),
  judgeRmTieMargin: z.coerce.number().min(0, 'must be >= 0 (a score difference on the [0, 1] scale)').optional(),
});
export type RmJudgeOptions = z.output<typeof rmJudgeOptionsSchema>;

export function addRmJudgeOptions(cmd: Command): Command {
  return cmd
    .option('--judge-rm <dir>', 'reward-model judge instead of a chat judge: a built-in RM checkpoint (`lwz-train train-rm` output)')
    .option('--judge-onnx-rm <file>', 'reward-model judge from an ONNX score export (tokenizer.json and config.json beside it)')
    .option(
      '--judge-rm-tie-margin <x>',
      'RM judge: a score difference below this is a tie (scores in [0, 1]); only with --judge-rm / --judge-onnx-rm',
      String(DEFAULT_RM_TIE_MARGIN),
    );
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
 * RM flag is given. A chat judge flag (--judge-url, --judge-model, or one of `chatFlags`: the chat judge's own
 * flags the user gave, givenChatFlags) beside an RM flag is refused, and so is --judge-rm-tie-margin without one.
 */
export function rmPairwiseJudge(
  o: RmJudgeOptions & { judgeUrl?: string; judgeModel?: string; chatFlags?: readonly string[] },
  levels: VerdictLevels,
  cacheDir: string,
): RmJudge | undefined {
  if (o.judgeRm === undefined && o.judgeOnnxRm === undefined) {
    // its default is no value: one here was given, and a chat judge's verdict labels have no score to set it against
    if (o.judgeRmTieMargin !== undefined)
      throw new UserError(
        '--judge-rm-tie-margin applies only with --judge-rm or --judge-onnx-rm (a tie between two reward-model scores); the chat judge gives verdict labels and takes no margin: remove --judge-rm-tie-margin, or judge with --judge-rm DIR / --judge-onnx-rm FILE',
      );
    return undefined;
  }
  if (o.judgeRm !== undefined && o.judgeOnnxRm !== undefined)
    throw new UserError('give one reward-model judge: --judge-rm or --judge-onnx-rm');
  const flag = o.judgeRm !== undefined ? '--judge-rm' : '--judge-onnx-rm';
  if (o.judgeUrl !== undefined || o.judgeModel !== undefined) {
    throw new UserError(
      `${flag} and --judge-url/--judge-model are two different judges: give the reward model or the chat judge, not both`,
    );
  }
  // the chat judge's own settings would do nothing beside a reward model: named, not ignored
  const chatOnly = o.chatFlags ?? [];
  if (chatOnly.length)
    throw new UserError(
      `${chatOnly.join(', ')} set${chatOnly.length === 1 ? 's' : ''} a chat judge; ${flag} scores with a reward model, which takes none of them`,
    );
  let scorer: QualityScorer & { dispose?: () => void; close?: () => Promise<void> };
  try {
    scorer = o.judgeRm !== undefined ? createBuiltinRmScorer({ checkpoint: o.judgeRm }) : createOnnxRmScorer({ model: o.judgeOnnxRm });
  } catch (e) {
    asFlag(flag, e);
  }
  let judge: PairwiseJudge;
  try {
    judge = pairwiseFromScorer(scorer, { tieMargin: o.judgeRmTieMargin ?? DEFAULT_RM_TIE_MARGIN, levels });
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
