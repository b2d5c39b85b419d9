// Requests and results in camelCase TypeScript, and their translation to and from the OpenAI wire format
// (snake_case bodies, the zod-parsed responses of wire.ts). No I/O here: the client sends what these build.
import type { z } from '@lwz/core';
import {
  chatResponseSchema,
  completionResponseSchema,
  normaliseLogprobs,
  normaliseUsage,
  tokenIdsOf,
  type TokenLogprobs,
  type Usage,
} from './wire';

/** Fields every generation request may carry. */
interface SamplingFields {
  /** overrides the config's model for this request */
  model?: string;
  /** answers to sample for this prompt (default 1) */
  n?: number;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string | string[];
  seed?: number;
  /** server-specific fields sent as they are (e.g. vLLM `return_token_ids`, `min_p`); the fields above win */
  extra?: Record<string, unknown>;
}

export interface CompletionRequest extends SamplingFields {
  /** the prompt text, or its token ids (vLLM and SGLang accept ids) */
  prompt: string | number[];
  /** top alternatives per token; 0 returns only the sampled token's log-prob; absent returns none */
  logprobs?: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };

export interface ChatRequest extends SamplingFields {
  messages: ChatMessage[];
  responseFormat?: ResponseFormat;
  /** per-token log-probs of the reply */
  logprobs?: boolean;
  topLogprobs?: number;
}

export interface CompletionChoice {
  index: number;
  text: string;
  /** 'stop' | 'length' | what the server says; null when it says nothing */
  finishReason: string | null;
  logprobs?: TokenLogprobs;
  /** generated token ids, where the server returns them (see tokenIdsOf) */
  tokenIds?: number[];
}

export interface ChatChoice {
  index: number;
  content: string;
  /** a reasoning model's thinking, where the server separates it (vLLM reasoning parsers) */
  reasoning?: string;
  finishReason: string | null;
  logprobs?: TokenLogprobs;
}

interface ResultFields {
  id?: string;
  model?: string;
  usage?: Usage;
  /** true when the answer came from the disk cache (no HTTP call) */
  cached: boolean;
}

export interface CompletionResult extends ResultFields {
  choices: CompletionChoice[];
}

export interface ChatResult extends ResultFields {
  choices: ChatChoice[];
}

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

function samplingBody(req: SamplingFields, model: string): Record<string, unknown> {
  return {
    model: req.model ?? model,
    n: req.n,
    max_tokens: req.maxTokens,
    temperature: req.temperature,
    top_p: req.topP,
    stop: req.stop,
    seed: req.seed,
  };
}

export function completionBody(req: CompletionRequest, model: string): Record<string, unknown> {
  return dropUndefined({ ...req.extra, ...samplingBody(req, model), prompt: req.prompt, logprobs: req.logprobs });
}

export function chatBody(req: ChatRequest, model: string): Record<string, unknown> {
  return dropUndefined({
    ...req.extra,
    ...samplingBody(req, model),
    messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
    response_format: req.responseFormat,
    logprobs: req.logprobs,
    top_logprobs: req.topLogprobs,
  });
}

export function toCompletionResult(raw: z.infer<typeof completionResponseSchema>, cached: boolean): CompletionResult {
  const choices = raw.choices.map((c, i): CompletionChoice => {
    const logprobs = normaliseLogprobs(c.logprobs);
    const tokenIds = tokenIdsOf(c.token_ids, logprobs);
    return { index: c.index ?? i, text: c.text, finishReason: c.finish_reason ?? null, logprobs, tokenIds };
  });
  choices.sort((a, b) => a.index - b.index);
  return { id: raw.id, model: raw.model, usage: normaliseUsage(raw.usage), cached, choices };
}

export function toChatResult(raw: z.infer<typeof chatResponseSchema>, cached: boolean): ChatResult {
  const choices = raw.choices.map(
    (c, i): ChatChoice => ({
      index: c.index ?? i,
      // a refusal is what the model said: shown (and validated, and named in a re-ask) instead of an empty reply
      content: c.message.content ?? (c.message.refusal ? `[refusal] ${c.message.refusal}` : ''),
      reasoning: c.message.reasoning_content ?? undefined,
      finishReason: c.finish_reason ?? null,
      logprobs: normaliseLogprobs(c.logprobs),
    }),
  );
  choices.sort((a, b) => a.index - b.index);
  return { id: raw.id, model: raw.model, usage: normaliseUsage(raw.usage), cached, choices };
}
