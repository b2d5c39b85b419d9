// @lwz/rollout: batched sampling for RL and evaluation. generate(prompts, config) gives n answers per prompt
// with token ids, per-token log-probs under the raw policy and finish reasons, from our own model through a
// continuous-batching engine (LocalRollout) or from OpenAI-compatible servers (RemoteRollout).
export { GenerationConfigSchema, parseGenerationConfig, type GenerationConfig, type GenerationConfigInput } from './generation-config';
export {
  TokenSet,
  RepetitionPenaltyProcessor,
  MinPProcessor,
  TemperatureProcessor,
  TopKProcessor,
  TopPProcessor,
  ProcessorChain,
  buildProcessors,
  type LogitsProcessor,
  type FusedOptions,
} from './processors';
export { sampleTokens, type SampleRequest, type SampledToken, type TokenLogprob } from './sampler';
export {
  StoppingCriteria,
  StopTokenCriterion,
  StopStringCriterion,
  MaxTokensCriterion,
  type StoppingCriterion,
  type Finish,
  type FinishReason,
  type AnswerState,
} from './stopping';
export { promptSeed, sampleStream } from './rng-streams';
export { planKv, type KvPlan, type KvPlanInput } from './kv-plan';
export { Qwen2SlotModel, type SlotModel } from './slot-model';
export { Answer, PromptGroup, type Detokenizer, type GroupSpec } from './answer';
export { Engine, KvBudgetError, type EngineOptions, type EngineStats, type GroupHandle } from './engine';
export { LocalRollout, defaultStopTokenIds, toCompletion, type LocalRolloutOptions } from './local-backend';
export type { Completion, TopLogprob, RolloutPrompt, RolloutBackend, GenerateOptions } from './types';
export { sampleLine } from './sample-line';
export { resumeSamples, checkSamplesPath, appendSample, sampleKey, type SamplingSettings } from './sample-file';
export { startServer, type ServeOptions, type RunningServer, type ServerStats } from './server/openai-server';
export type { DrainReport } from './server/shutdown';
export { listenOn, urlHost } from './server/listen';
export { readBody } from './server/read-body';
export { HttpError } from './server/openai-requests';
export { RemoteRollout, type RemoteRolloutOptions } from './remote-backend';
export { runLoadTest, type LoadTestOptions, type LoadTestResult, type LoadKind } from './server/load-test';
