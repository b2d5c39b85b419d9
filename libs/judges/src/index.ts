// @lwz/judges: the judges that evaluation and the trainer's quality reward share. Chat judges over any
// OpenAI-compatible endpoint (criteria scoring with a JSON {score, reason} reply; pairwise verdicts with
// arena-hard labels), the PairwiseJudge interface reward-model judges implement (pairwiseFromScorer), the
// reward-model quality scorers ("builtin-rm" in process, "onnx-rm" through onnxruntime), a verdict cache for
// judges without their own, and checked prompt templates. Aggregation lives in @lwz/eval.
export { PromptTemplate, loadPromptTemplate } from './template';
export {
  VERDICT_LABELS,
  type VerdictLabel,
  type VerdictLevels,
  lastVerdictLabel,
  toLevels,
  verdictScoreA,
  isStrongVerdict,
  swapVerdict,
  verdictLabelList,
  verdictReply,
} from './verdict';
export {
  CRITERIA_FIELDS,
  PAIRWISE_FIELDS,
  CRITERIA_PROMPT_VERSION,
  PAIRWISE_PROMPT_VERSION,
  DEFAULT_CRITERIA_SYSTEM,
  DEFAULT_CRITERIA_TEMPLATE,
  DEFAULT_PAIRWISE_SYSTEM,
  DEFAULT_PAIRWISE_TEMPLATE,
  QUALITY_RUBRIC,
} from './prompts';
export {
  ChatCriteriaJudge,
  formatCriterion,
  type ChatCriteriaJudgeOptions,
  type CriteriaItem,
  type CriterionJudgment,
  type JudgeCriterion,
  type CriteriaJudge,
} from './chat-criteria-judge';
export {
  ChatPairwiseJudge,
  type ChatPairwiseJudgeOptions,
  type PairwiseItem,
  type PairwiseVerdict,
  type PairwiseJudge,
  type PairwiseJudgeOptions,
} from './pairwise';
export { pairwiseFromScorer, labelFromScores, type ScorerPairwiseOptions } from './scorer-pairwise';
export { ChatQualityScorer, createChatQualityScorer, QUALITY_RUBRIC_VERSION } from './quality-scorer';
export { withJudgmentCache, judgmentKey } from './judgment-cache';
export { rmInputIds, rmChatInputIds, rmEndId, RM_INPUT_VERSION, RM_CHAT_INPUT_VERSION } from './rm-input';
export {
  LlmLengthPredictor,
  createLlmLengthPredictor,
  type LengthFallback,
  type LlmLengthPredictorOptions,
  type LlmLengthPredictorStats,
} from './length-predictor';
export { rmScore, rightPad, lengthBatches, DEFAULT_RM_BATCH_SIZE } from './rm-common';
export { BuiltinRmScorer, createBuiltinRmScorer, builtinRmOptionsSchema, type BuiltinRmOptions } from './rm-scorer';
export { OnnxRmScorer, createOnnxRmScorer, onnxRmOptionsSchema, type OnnxRmOptions } from './onnx-rm-scorer';
