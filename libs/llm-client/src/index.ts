// @lwz/llm-client: the OpenAI-compatible HTTP client shared by rollout (remote backend), the judges and
// eval: retries with backoff, round-robin base URLs, timeouts, a concurrency limit, SSE streams, a disk
// cache, and validated answers. The test server lives in the '@lwz/llm-client/testing' entry.
export { LlmClient, type LlmClientOptions, type CallOptions, type LlmClientStats } from './client';
export {
  LlmClientConfigSchema,
  parseLlmClientConfig,
  resolveApiKey,
  looksLikeApiKey,
  maskSecrets,
  type LlmClientConfig,
  type LlmClientConfigInput,
} from './config';
export type {
  CompletionRequest,
  CompletionResult,
  CompletionChoice,
  ChatRequest,
  ChatResult,
  ChatChoice,
  ChatMessage,
  ResponseFormat,
} from './requests';
export { tokenIdOf, type TokenLogprobs, type Usage, type ModelInfo } from './wire';
export { assembleDeltas, type CompletionDelta, type ChatDelta } from './stream-deltas';
export {
  askUntilValid,
  InvalidReplyError,
  type Validation,
  type Validator,
  type AskAttempt,
  type AskResult,
  type AskOptions,
} from './ask-until-valid';
export { jsonReply, lastJsonObject } from './validators';
export { ResponseCache, cacheKey, canonicalJson, type CacheKeyParts, type CacheStats } from './cache';
export { LlmError, isLlmError, type LlmErrorKind } from './errors';
export { backoffDelayMs, parseRetryAfterMs } from './backoff';
export { Semaphore } from './semaphore';
