// @lwz/rewards: the paper's three rewards as pure batch functions (length: target range + reward; format:
// structure + repetition; quality: the QualityScorer interface that libs/judges implements), the advantage
// estimators and reward combinations that turn them into one advantage per sample, and per-batch monitors.
// No kernels, no HTTP, no files: scorers and predictors that need them implement the interfaces from above.
export { createRegistry, type Registry } from '@lwz/core';

export { LENGTH_FORMS, type LengthForm, type WordRange, lengthRangeFor } from './length/range-rule';
export { parseWrittenNumber } from './length/numbers';
export { type LengthMention, type LengthRequirement, findLengthMentions, parseLengthRequirement } from './length/requirement';
export {
  type LengthPrediction,
  type LengthPredictor,
  type RangeRules,
  PAPER_RANGE_RULES,
  isSkipRange,
  rangeRuleViolation,
  snapToRules,
} from './length/predictor';
export {
  type GenreRange,
  type BuiltinPredictorOptions,
  GENRE_RANGES,
  DEFAULT_BUILTIN_PREDICTOR_OPTIONS,
  predictRangeFromFeatures,
  createBuiltinLengthPredictor,
} from './length/builtin-predictor';
export {
  type LengthPredictorFactory,
  registerLengthPredictor,
  hasLengthPredictor,
  lengthPredictorNames,
  createLengthPredictor,
} from './length/predictor-registry';
export { type AssessorVerdict, LENGTH_ASSESSOR_VERSION, buildLengthAssessorMessages, parseLengthAssessorReply } from './length/assessor';
export {
  type TargetSource,
  type TargetRange,
  type TargetRow,
  checkWordRange,
  explicitTargetRange,
  resolveTargetRanges,
} from './length/target-range';
export { type LmaxRule, DEFAULT_LMAX, lengthCap, lengthReward, lengthRewards } from './length/length-reward';

export {
  type RepetitionOptions,
  type RepetitionMeasures,
  type ParagraphOverlap,
  ramp,
  duplicatedNgramShare,
  splitParagraphs,
  paragraphOverlaps,
  measureRepetition,
} from './format/repetition';
export { type FormatVerdict, type FormatResult, formatReward, formatRewards } from './format/format-reward';

export {
  type QualityItem,
  type QualityScore,
  type QualityScorer,
  type QualityScorerFactory,
  createConstantScorer,
  createFunctionScorer,
  scoreQuality,
  registerQualityScorer,
  hasQualityScorer,
  qualityScorerNames,
  createQualityScorer,
} from './quality/scorer';

export { type GroupIndex, groupIndex, contiguousGroups } from './advantage/groups';
export {
  type EstimatorOptions,
  type AdvantageEstimator,
  type GroupStats,
  DEFAULT_ESTIMATOR_OPTIONS,
  groupStats,
  grpoAdvantages,
  drGrpoAdvantages,
  rlooAdvantages,
  registerAdvantageEstimator,
  getAdvantageEstimator,
  hasAdvantageEstimator,
  advantageEstimatorNames,
} from './advantage/estimators';
export {
  type CombinationInput,
  type CombinationResult,
  type RewardCombination,
  batchZScore,
  advantageAverage,
  normalizeThenWeightedSum,
  sumThenNormalize,
  registerRewardCombination,
  getRewardCombination,
  hasRewardCombination,
  rewardCombinationNames,
} from './advantage/combinations';

export { type MonitorRow, distinctN, rewardMonitors } from './monitors';
export { type RewardsConfig, rewardsConfigSchema, parseRewardsConfig, mergeRewardsConfig, lmaxRuleOf } from './config';
export {
  REWARD_NAMES,
  type RewardName,
  type RewardRow,
  type ScoredRow,
  type ScoredBatch,
  type RewardDeps,
  createRewardDeps,
  scoreRewards,
  combineRewards,
  batchMonitors,
} from './score';
