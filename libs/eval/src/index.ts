// @lwz/eval: evaluation on top of @lwz/judges. The pairwise arena (both orders, Bradley-Terry Elo on the
// 400-point base-10 scale with bootstrap intervals over prompts, length-controlled fit, win rates),
// WritingBench criteria scoring and aggregation, LongBench-Write S_l / S_q, response-file loading, and the
// reports (results.json, report.md, report.html). Judgments are cached on disk before they are used.
export { fitBradleyTerry, toElo, solveSpd, ELO_PER_LOGIT, type Battle, type BtOptions, type BtFit } from './bradley-terry';
export { bootstrapPlan, bootstrapMeanInterval, quantile, interval95, mean } from './bootstrap';
export { rateBattles, lengthCovariate, type RatingOptions, type PlayerRating, type RatingFit, type Ratings } from './ratings';
export {
  loadResponseFile,
  parseResponses,
  matchResponses,
  promptKey,
  textSources,
  textSourceCounts,
  describeTextSources,
  type ResponseRow,
  type ResponseSet,
  type TextSource,
} from './responses';
export {
  runArena,
  EMPTY_ANSWER_REASON,
  arenaPairs,
  type ArenaOptions,
  type ArenaResult,
  type ArenaPlayer,
  type ArenaPlayerResult,
  type ArenaPrompt,
  type ArenaAnswer,
  type ArenaPairing,
  type Judgment,
  type Interval,
} from './arena';
export { arenaInputs, baselinePlayers, type ArenaInputs } from './arena-inputs';
export {
  runWritingBench,
  NoMatchingResponseError,
  EMPTY_RESPONSE_REASON,
  type WritingBenchOptions,
  type WritingBenchResult,
  type QueryResult,
  type CriterionResult,
  type GroupScore,
} from './writingbench';
export {
  runLongBenchWrite,
  lengthScore,
  bucketLabel,
  LENGTH_BUCKETS,
  QUALITY_DIMENSIONS,
  LONGBENCH_QUALITY_TEMPLATE,
  LONGBENCH_QUALITY_VERSION,
  longBenchQualityTemplate,
  type LongBenchAnswer,
  type LongBenchAnswerResult,
  type LongBenchBucket,
  type LongBenchOptions,
  type LongBenchResult,
} from './longbench-write';
export { requiredWords } from './required-length';
export { arenaMarkdown, arenaHtml, type ReportOptions } from './report/arena-report';
export { writingBenchMarkdown, writingBenchHtml, longBenchMarkdown, longBenchHtml } from './report/scores-report';
export { idList } from './report/common';
