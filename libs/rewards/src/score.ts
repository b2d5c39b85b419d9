// scoreRewards: the three rewards for a batch of rows {prompt, response, length_range?, finish_reason?}
// under a validated config, plus everything a user or the trainer inspects (target range and where it came
// from, answer words, repetition measures, format verdict). Then, given the prompt groups, the combined
// advantage (combineRewards) and the batch monitors (batchMonitors). The quality scorer and length predictor
// are injected (defaults: made from the config's registries).
import { type CompletionViolation, countWords, withoutInvisible } from '@lwz/tokenizer';
import { getRewardCombination, type CombinationResult } from './advantage/combinations';
import { getAdvantageEstimator } from './advantage/estimators';
import type { GroupIndex } from './advantage/groups';
import { type RewardsConfig, lmaxRuleOf } from './config';
import { formatRewards } from './format/format-reward';
import { lengthReward } from './length/length-reward';
import type { LengthPredictor } from './length/predictor';
import { createLengthPredictor } from './length/predictor-registry';
import type { WordRange } from './length/range-rule';
import { type TargetSource, resolveTargetRanges } from './length/target-range';
import { rewardMonitors } from './monitors';
import { type QualityScorer, createQualityScorer, scoreQuality } from './quality/scorer';

export const REWARD_NAMES = ['length', 'format', 'quality'] as const;
export type RewardName = (typeof REWARD_NAMES)[number];

export interface RewardRow {
  prompt: string;
  /** the whole completion (think + answer blocks) */
  response: string;
  /** explicit target [lo, hi] in words: wins over the prompt's wording and the predictor */
  length_range?: unknown;
  /** a required length (LongBench-Write rows): the target when neither length_range nor the wording gives one */
  length?: unknown;
  /** rollout finish reason ('stop', 'length', ...), for the truncation monitor */
  finish_reason?: string;
}

/** What score-rewards adds to each line (snake_case like the rest of the JSONL). */
export interface ScoredRow {
  target_range: WordRange;
  target_source: TargetSource;
  /** the length predictor had no usable range for this prompt: target_range is its stand-in */
  target_fallback?: true;
  /** [0, 0] target: leave this prompt out of training */
  skip: boolean;
  answer_words: number;
  rewards: Record<RewardName, number>;
  quality_raw?: number;
  quality_reason?: string;
  /** the quality scorer had no usable score (quality_reason says why): rewards.quality is its stand-in */
  quality_fallback?: true;
  /** the quality scorer read only the head of the answer (longer than a reward model's window) */
  quality_truncated?: true;
  repetition: { ngram_dup: number; duplicate_paragraphs: number; max_paragraph_overlap: number; penalty: number };
  format: { valid: boolean; codes: CompletionViolation[]; violations: string[] };
  /** formatGate: the structure was broken, so the length and quality rewards were set to 0 */
  gated?: true;
}

export interface ScoredBatch {
  rows: ScoredRow[];
  /** (N,) the <answer> texts ('' when there is none) */
  answers: string[];
  /** (N,) finish reasons as given */
  finishReasons: (string | undefined)[];
  /** name -> (N,) */
  rewards: Record<RewardName, Float64Array>;
}

export interface RewardDeps {
  quality: QualityScorer;
  predictor: LengthPredictor;
}

/** The scorer and predictor the config names (from their registries). */
export function createRewardDeps(config: RewardsConfig): RewardDeps {
  return {
    quality: createQualityScorer(config.quality.scorer, config.quality.options),
    predictor: createLengthPredictor(config.length.predictor.name, config.length.predictor.options),
  };
}

function checkRow(row: RewardRow, i: number): void {
  if (typeof row?.prompt !== 'string') throw new Error(`row ${i}: field "prompt" must be a string`);
  if (typeof row.response !== 'string') throw new Error(`row ${i}: field "response" must be a string`);
  if (row.finish_reason !== undefined && typeof row.finish_reason !== 'string') {
    throw new Error(`row ${i}: field "finish_reason" must be a string when present`);
  }
}

/** Rows (N,) -> scored rows (N,), with the reward arrays for combineRewards. */
export async function scoreRewards(rows: readonly RewardRow[], config: RewardsConfig, deps?: RewardDeps): Promise<ScoredBatch> {
  rows.forEach(checkRow);
  const { quality, predictor } = deps ?? createRewardDeps(config);
  const targets = await resolveTargetRanges(rows, predictor);
  const formats = formatRewards(
    rows.map((r) => r.response),
    config.template,
    config.repetition,
  );
  const answers = formats.map((f) => f.answer);
  const qualities = await scoreQuality(
    quality,
    rows.map((r, i) => ({ prompt: r.prompt, response: r.response, answer: answers[i] === '' ? null : answers[i] })),
  );
  const lmax = lmaxRuleOf(config);
  const n = rows.length;
  const rewards = { length: new Float64Array(n), format: new Float64Array(n), quality: new Float64Array(n) }; // (N,) each
  const scored = rows.map((_, i): ScoredRow => {
    const words = countWords(withoutInvisible(answers[i])); // zero-width characters do not split words
    const f = formats[i];
    const q = qualities[i];
    const gated = config.formatGate && !f.verdict.valid;
    rewards.length[i] = gated ? 0 : lengthReward(words, targets[i].range, lmax);
    rewards.format[i] = f.reward;
    rewards.quality[i] = gated ? 0 : q.score;
    return {
      target_range: targets[i].range,
      target_source: targets[i].source,
      ...(targets[i].fallback ? { target_fallback: true as const } : {}),
      skip: targets[i].skip,
      answer_words: words,
      rewards: { length: rewards.length[i], format: rewards.format[i], quality: rewards.quality[i] },
      ...(q.raw !== undefined ? { quality_raw: q.raw } : {}),
      ...(q.reason !== undefined ? { quality_reason: q.reason } : {}),
      ...(q.fallback ? { quality_fallback: true as const } : {}),
      ...(q.truncated ? { quality_truncated: true as const } : {}),
      repetition: {
        ngram_dup: f.repetition.ngramDup,
        duplicate_paragraphs: f.repetition.duplicateParagraphShare,
        max_paragraph_overlap: f.repetition.maxParagraphOverlap,
        penalty: f.repetition.penalty,
      },
      format: { valid: f.verdict.valid, codes: f.verdict.codes, violations: f.verdict.violations },
      ...(gated ? { gated: true as const } : {}),
    };
  });
  return { rows: scored, answers, finishReasons: rows.map((r) => r.finish_reason), rewards };
}

/** The combined advantage (N,) of a scored batch under the config's combination, weights and estimator. */
export function combineRewards(batch: ScoredBatch, groups: GroupIndex, config: RewardsConfig): CombinationResult {
  return getRewardCombination(config.combination.name)({
    rewards: batch.rewards,
    weights: config.combination.weights,
    groups,
    estimator: getAdvantageEstimator(config.estimator.name),
    options: { std: config.estimator.std, eps: config.estimator.eps },
  });
}

/** rewardMonitors of a scored batch (flat keys such as reward/length/mean). */
export function batchMonitors(batch: ScoredBatch, groups?: GroupIndex): Record<string, number> {
  return rewardMonitors(
    batch.rows.map((r, i) => ({
      answer: batch.answers[i],
      answerWords: r.answer_words,
      targetRange: r.target_range,
      skip: r.skip,
      formatValid: r.format.valid,
      repetition: {
        ngramDup: r.repetition.ngram_dup,
        duplicateParagraphShare: r.repetition.duplicate_paragraphs,
        maxParagraphOverlap: r.repetition.max_paragraph_overlap,
        penalty: r.repetition.penalty,
      },
      finishReason: batch.finishReasons[i],
      rewards: r.rewards,
      qualityFallback: r.quality_fallback,
      qualityTruncated: r.quality_truncated,
      lengthFallback: r.target_fallback,
    })),
    groups,
  );
}
