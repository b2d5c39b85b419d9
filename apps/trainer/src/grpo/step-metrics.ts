// One GRPO step's metrics.jsonl row: the reward monitors, format violations, each reward's share of the
// advantage, answer and think lengths, the update's clip / KL / entropy numbers, how far the rollout's
// log-probs are from the recomputed old ones, and the time split. Pure: reads what the step produced and
// computes nothing the update needs.
import type { CombinationResult, ScoredBatch } from '@lwz/rewards';
import type { Completion } from '@lwz/rollout';
import { countWords, parseCompletion, type TemplateName, type Tokenizer } from '@lwz/tokenizer';
import type { MetricsRow } from '@lwz/training';
import type { GrpoPrompt } from './prompts';
import type { UpdateResult } from './update';

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export interface StepRecord {
  /** the step number written (steps done, counted from 1) */
  step: number;
  /** every answer: its completion, the index of its prompt in the step, the response as the assistant turn reads */
  flat: readonly { c: Completion; p: number; response: string }[];
  scored: ScoredBatch;
  combined: CombinationResult;
  monitors: Record<string, number>;
  /** null: every answer was skipped, no update ran */
  upd: UpdateResult | null;
  /** old log-probs were recomputed by a training forward (their distance to the rollout's is then reported) */
  recomputeOld: boolean;
  /** the KL to the start policy was computed this step */
  klDue: boolean;
  lr: number;
  /** answers trained on (not skipped) */
  rows: number;
  /** tokens generated in the step (every answer's) */
  genTokens: number;
  template: TemplateName;
  tokenizer: Tokenizer;
  /** performance.now() at the step's start, after the rollout, after the rewards, after the update */
  times: readonly [number, number, number, number];
  /** the step's prompts when a sample answer (the best by length + format reward) goes into the row; else null */
  sample: readonly GrpoPrompt[] | null;
}

export function stepMetrics(s: StepRecord): MetricsRow {
  const { flat, scored, combined, monitors, upd } = s;
  const [t0, t1, t2, t3] = s.times;
  const parsed = flat.map(({ response }) => parseCompletion(response, s.template));
  const violations: Record<string, number> = {};
  for (const r of scored.rows)
    for (const code of new Set(r.format.codes))
      violations[`format/violation/${code}`] = (violations[`format/violation/${code}`] ?? 0) + 1 / scored.rows.length;
  const absMean = (a: Float64Array) => mean([...a].map(Math.abs));
  const shares = Object.fromEntries(Object.entries(combined.perReward).map(([k, a]) => [k, absMean(a)]));
  const shareSum = Object.values(shares).reduce((a, b) => a + b, 0) || 1;
  // rollout vs training forward: how far the engine's raw log-probs are from the recomputed old ones
  let diff = 0;
  let diffN = 0;
  if (upd && s.recomputeOld) {
    let r = 0;
    flat.forEach(({ c }, i) => {
      if (scored.rows[i].skip) return;
      const old = upd.oldLogprobs[r++];
      if (c.logprobs.length !== old.length) return; // a server that sent no log-probs
      for (let t = 0; t < old.length; t++) diff += Math.abs(old[t] - c.logprobs[t]);
      diffN += old.length;
    });
  }
  const m = upd?.metrics;
  const metrics: MetricsRow = {
    step: s.step,
    ...monitors,
    'format/valid': 1 - (monitors['format/broken'] ?? 0),
    ...violations,
    ...Object.fromEntries(Object.entries(shares).map(([k, v]) => [`advantage/share/${k}`, v / shareSum])),
    'length/answer_tokens/mean': mean(flat.map(({ c }) => c.tokenIds.length)),
    'length/think_words/mean': mean(parsed.map((x) => countWords(x.think ?? ''))),
    'length/think_tokens/mean': mean(parsed.map((x) => (x.think ? s.tokenizer.encode(x.think, { addSpecialTokens: false }).length : 0))),
    'loss/policy': upd?.loss ?? 0,
    'policy/clip_frac_low': m?.clipFracLow ?? 0,
    'policy/clip_frac_high': m?.clipFracHigh ?? 0,
    'policy/clip_frac_dual': m?.clipFracDual ?? 0,
    'policy/clip_frac': (m?.clipFracLow ?? 0) + (m?.clipFracHigh ?? 0),
    'policy/approx_kl_old': m?.approxKlOld ?? 0,
    ...(s.klDue ? { 'policy/kl_start': m?.klRef ?? 0 } : {}),
    'policy/entropy': m?.entropyEstimate ?? 0,
    'policy/ratio_max': m?.ratioMax ?? 1,
    'rollout/logprob_abs_diff': diffN ? diff / diffN : 0,
    'train/lr': s.lr,
    'train/grad_norm': upd?.gradNorm ?? 0,
    'train/skipped_updates': upd?.skipped ?? 0,
    'train/idle_updates': upd?.idle ?? 0,
    'train/rows': s.rows,
    'perf/gen_tokens_per_s': s.genTokens / ((t1 - t0) / 1000),
    'perf/update_tokens_per_s': upd ? upd.tokens / ((t3 - t2) / 1000) : 0,
    'time/rollout_s': (t1 - t0) / 1000,
    'time/reward_s': (t2 - t1) / 1000,
    'time/update_s': (t3 - t2) / 1000,
    'time/step_s': (t3 - t0) / 1000,
  };
  if (s.sample) {
    const best = scored.rows.reduce(
      (b, r, i) => (r.rewards.length + r.rewards.format > scored.rows[b].rewards.length + scored.rows[b].rewards.format ? i : b),
      0,
    );
    Object.assign(metrics, {
      'sample/prompt': s.sample[flat[best].p].prompt,
      'sample/response': flat[best].response,
      'sample/answer_words': scored.rows[best].answer_words,
      'sample/target': JSON.stringify(scored.rows[best].target_range),
    });
  }
  return metrics;
}
