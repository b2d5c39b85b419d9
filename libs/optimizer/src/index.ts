// @lwz/optimizer: AdamW with exact save/restore, learning-rate schedules by name, global-norm clipping,
// gradient accumulation, and the RL maths of the GRPO update: policy losses and loss aggregations by name
// (advantage estimators live in @lwz/rewards).
export { AdamW, DEFAULT_ADAMW, type AdamWOptions, type AdamWState, type NamedParam } from './adamw';
export { makeSchedule, registerSchedule, scheduleNames, scheduleNameSchema, type Schedule, type ScheduleOptions } from './schedules';
export { clipGradNorm, type ClipResult } from './clip';
export { GradientAccumulator, type AccumulationNorm } from './accumulate';
export {
  aggregate,
  aggregationNames,
  getAggregation,
  lossNormalizer,
  registerAggregation,
  rowLengths,
  type Aggregation,
  type LossNormalizer,
  type TokenMask,
} from './rl/aggregation';
export {
  getPolicyLoss,
  mergePolicyLossMetrics,
  policyLossNames,
  registerPolicyLoss,
  type PolicyLoss,
  type PolicyLossInput,
  type PolicyLossMetrics,
  type PolicyLossOptions,
  type PolicyLossResult,
} from './rl/policy-loss';
export { policyLossConfigSchema, policyLossOptions, type PolicyLossConfig } from './rl/config';
export { aggregateReference, ppoClipReference } from './rl/reference';
