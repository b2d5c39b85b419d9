// @lwz/llm-client/testing: a real local OpenAI-compatible server with fault injection, for the tests of
// every project that talks to one (rollout's remote backend, the judges, eval). See the README.
export {
  startTestLlmServer,
  unusedBaseUrl,
  type TestLlmServer,
  type TestLlmServerOptions,
  type Responder,
  type TestReply,
  type RawReply,
} from './server';
export { ALL_FAULTS, type FaultKind, type FaultOptions, type RetryAfter } from './faults';
export { defaultResponder, tokensOf, type TestChoice, type TestRequest } from './openai-shapes';
export { errorOf } from './rejection';
export { within } from './deadline';
