// The before/after check of a GRPO run: one answer per held-out generated prompt (topics never trained on)
// from a checkpoint, scored with the run's rewards and LongBench-Write's length score S_l (@lwz/eval) against
// the prompt's required words. Used at the end of `train` for the base and the RL checkpoint side by side.
import { join } from 'node:path';
import { writeJsonl } from '@lwz/core';
import { rangeCentre } from '@lwz/data';
import { bootstrapMeanInterval, lengthScore } from '@lwz/eval';
import { batchMonitors, createRewardDeps, scoreRewards, type RewardDeps } from '@lwz/rewards';
import { LocalRollout } from '@lwz/rollout';
import { getTemplate, parseCompletion, renderPromptFor } from '@lwz/tokenizer';
import type { GrpoConfig } from './config';
import type { GrpoPrompt } from './prompts';
import type { HeldoutSide } from './report';

export async function evaluateHeldout(
  cfg: GrpoConfig,
  checkpoint: string,
  label: string,
  prompts: readonly GrpoPrompt[],
  outFile: string,
  deps: RewardDeps = createRewardDeps(cfg.rewards),
): Promise<HeldoutSide> {
  const rollout = LocalRollout.fromCheckpoint(checkpoint, { maxBatch: cfg.rollout.maxBatch });
  const template = getTemplate(cfg.template);
  try {
    const renders = prompts.map((p) => renderPromptFor(rollout.tokenizer, template, p.prompt));
    const ids = renders.map((r) => rollout.tokenizer.encode(r.text, { addSpecialTokens: false }));
    const out = await rollout.generate(
      ids.map((x, k) => ({ ids: x, index: k })),
      {
        n: 1,
        temperature: cfg.evaluation.temperature,
        maxNewTokens: cfg.rollout.maxNewTokens, // clamped per prompt to what the context leaves it
        seed: cfg.seed + 1_000_003,
        stop: [...template.stopStrings],
      },
    );
    const completions = out.map((cs) => cs[0]);
    return await scoreHeldout(
      cfg,
      label,
      prompts,
      completions.map((c, k) => ({ prefill: renders[k].prefill, text: c.text, finishReason: c.finishReason })),
      outFile,
      deps,
    );
  } finally {
    await rollout.close();
  }
}

/** One held-out answer: what the chat template opened (an opened <think>, or '') and the completion after it. */
export interface HeldoutAnswer {
  prefill: string;
  text: string;
  finishReason: string;
}

/**
 * One side of the held-out check from its answers (one per prompt, in order): each scored with the run's rewards and
 * S_l against the prompt's required words (its `length`, else the centre of its length_range, else of the target
 * range the rewards resolved), written one line each to outFile; returns the means, S_l's bootstrap interval and
 * the quality over the format-valid answers alone.
 */
export async function scoreHeldout(
  cfg: GrpoConfig,
  label: string,
  prompts: readonly GrpoPrompt[],
  answers: readonly HeldoutAnswer[],
  outFile: string,
  deps: RewardDeps,
): Promise<HeldoutSide> {
  // the assistant turn as it reads: what the chat template opened (an opened <think>, or '') and the completion
  const responses = answers.map((a) => a.prefill + a.text);
  const scored = await scoreRewards(
    answers.map((a, k) => ({
      prompt: prompts[k].prompt,
      response: responses[k],
      length_range: prompts[k].length_range,
      length: prompts[k].length,
      finish_reason: a.finishReason,
    })),
    cfg.rewards,
    deps,
  );
  // the words S_l is scored against, written into each line (`length`) so readers (eval-default) need no rule of their own
  const required = scored.rows.map((r, k) => {
    const lr = prompts[k].length_range;
    return prompts[k].length ?? (lr ? rangeCentre(lr) : (r.target_range[0] + r.target_range[1]) / 2);
  });
  const sl = scored.rows.map((r, k) => lengthScore(required[k], r.answer_words));
  writeJsonl(
    outFile,
    answers.map((a, k) => ({
      id: prompts[k].id,
      prompt: prompts[k].prompt,
      response: responses[k],
      // the sample-line contract's blocks, so every reader judges the same text (lwz-arena: the answer)
      ...(({ think, answer }) => ({ think, answer }))(parseCompletion(responses[k], cfg.template)),
      answer_words: scored.rows[k].answer_words,
      target_range: scored.rows[k].target_range,
      length: required[k],
      rewards: scored.rows[k].rewards,
      format_valid: scored.rows[k].format.valid,
      s_l: sl[k],
      finish_reason: a.finishReason,
    })),
  );
  const m = batchMonitors(scored);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const [slLow, slHigh] = bootstrapMeanInterval(sl, 2000, 0);
  // where the format is valid the gate took nothing away: the quality score as the scorer gave it
  const valid = scored.rows.filter((r) => r.format.valid).map((r) => r.rewards.quality);
  return {
    label,
    sl: mean(sl),
    slLow,
    slHigh,
    slPerAnswer: sl,
    formatValid: 1 - Number(m['format/broken'] ?? 0),
    lengthReward: Number(m['reward/length/mean'] ?? 0),
    quality: Number(m['reward/quality/mean'] ?? 0),
    qualityValid: valid.length ? mean(valid) : NaN,
    answerWords: Number(m['length/answer_words/mean'] ?? 0),
    inRange: Number(m['length/in_range'] ?? 0),
    truncated: Number(m['finish/truncated'] ?? 0),
  };
}

export const heldoutFile = (cfg: GrpoConfig, label: string) => join(cfg.out, `heldout-${label}.jsonl`);
