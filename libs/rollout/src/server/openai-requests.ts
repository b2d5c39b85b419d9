// From a validated request body to what the engine runs: prompt ids (chat rendered with the checkpoint's
// chat template, else ChatML), one GenerationConfig, per-prompt token caps and seeds, reply options. Every
// limit is checked here as an OpenAI-style HttpError. Seeds: a single prompt with `seed` s gives choice j the
// stream sampleStream(s, j) (what local generate() gives a group seeded s); a list uses promptSeed(s, i).
import { randomInt } from 'node:crypto';
import { isUserError } from '@lwz/core';
import { renderChatML, renderChatTemplate, TURN_END, type ChatMessage, type Tokenizer } from '@lwz/tokenizer';
import { parseGenerationConfig, type GenerationConfig } from '../generation-config';
import { defaultStopTokenIds } from '../local-backend';
import { promptSeed } from '../rng-streams';
import type { ChatBody, CompletionBody } from './openai-schemas';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
  }
}

export interface ServeLimits {
  /** the name clients must send as `model` */
  modelName: string;
  /** most new tokens one choice may ask for */
  maxTokens: number;
  /** most choices per prompt */
  maxN: number;
}

export interface ServeModel {
  tokenizer: Tokenizer;
  contextLength: number;
  eosTokenId: number | number[] | undefined;
  /** most new tokens an answer to a prompt of this many tokens may have within the KV budget (below 1: none) */
  maxNewTokensWithinBudget(promptLength: number): number;
}

export interface PlannedRequest {
  prompts: number[][];
  config: GenerationConfig;
  /** per prompt: new tokens per choice */
  maxNewTokens: number[];
  /** per prompt: the seed its choices' streams derive from */
  seeds: number[];
  stopTokenIds: number[];
  stream: boolean;
  includeUsage: boolean;
  /** print tokens as "token_id:N" (vLLM) */
  tokensAsIds: boolean;
  /** add `token_ids` to each choice (vLLM) */
  returnTokenIds: boolean;
  /** completions: log-probs wanted (top-N count); chat: logprobs flag */
  logprobs: boolean;
}

type Common = CompletionBody | ChatBody;

/** The request fields errors name: a chat request has `messages`, and may cap tokens as `max_completion_tokens`. */
interface RequestFields {
  prompt: 'prompt' | 'messages';
  maxTokens: 'max_tokens' | 'max_completion_tokens';
}

function toConfig(body: Common, topLogprobs: number, maxTokens: number | undefined): GenerationConfig {
  const raw = {
    n: body.n ?? 1,
    maxNewTokens: maxTokens,
    temperature: body.temperature ?? 1,
    topK: body.top_k === -1 ? 0 : (body.top_k ?? 0),
    topP: body.top_p ?? 1,
    minP: body.min_p ?? 0,
    repetitionPenalty: body.repetition_penalty ?? 1,
    stop: body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop,
    stopTokenIds: body.stop_token_ids ?? [],
    ignoreEos: body.ignore_eos ?? false,
    includeStopString: body.include_stop_str_in_output ?? false,
    skipSpecialTokens: body.skip_special_tokens ?? true,
    topLogprobs,
    seed: 0,
  };
  try {
    return parseGenerationConfig(raw, 'the request');
  } catch (e) {
    if (!isUserError(e)) throw e;
    // the config's first bad field ("  - stop.0: ..."), named as the request names it, for the error's `param`
    const field = /^\s*- ([A-Za-z]+)/m.exec((e as Error).message)?.[1];
    throw new HttpError(400, (e as Error).message, (field && CONFIG_PARAMS[field]) ?? null);
  }
}

/** GenerationConfig fields -> the request fields toConfig reads them from */
const CONFIG_PARAMS: Record<string, string> = {
  n: 'n',
  maxNewTokens: 'max_tokens',
  temperature: 'temperature',
  topK: 'top_k',
  topP: 'top_p',
  minP: 'min_p',
  repetitionPenalty: 'repetition_penalty',
  stop: 'stop',
  stopTokenIds: 'stop_token_ids',
  topLogprobs: 'top_logprobs',
};

function plan(
  body: Common,
  prompts: number[][],
  topLogprobs: number,
  logprobs: boolean,
  maxTokens: number | null | undefined,
  m: ServeModel,
  limits: ServeLimits,
  extraStops: number[],
  fields: RequestFields,
): PlannedRequest {
  if (body.model !== limits.modelName)
    throw new HttpError(
      404,
      `the model "${body.model}" does not exist; this server serves "${limits.modelName}"`,
      'model',
      'not_found_error',
    );
  const n = body.n ?? 1;
  if (n > limits.maxN) throw new HttpError(400, `n: at most ${limits.maxN} choices per prompt, got ${n}`, 'n');
  if ('best_of' in body && body.best_of != null && body.best_of !== n)
    throw new HttpError(400, 'best_of: only best_of = n is supported', 'best_of');
  const { prompt: promptField, maxTokens: maxField } = fields;
  if (maxTokens != null && maxTokens > limits.maxTokens) {
    throw new HttpError(400, `${maxField}: at most ${limits.maxTokens} new tokens per choice on this server, got ${maxTokens}`, maxField);
  }
  const vocab = m.tokenizer.vocabSize;
  const maxNewTokens = prompts.map((p) => {
    if (p.some((id) => id >= vocab))
      throw new HttpError(400, `${promptField}: token ids must be below the vocabulary size ${vocab}`, promptField);
    const room = m.contextLength - p.length;
    if (room < 1)
      throw new HttpError(
        400,
        `${promptField}: ${p.length} tokens leave no room in this model's ${m.contextLength}-token context; shorten it`,
        promptField,
      );
    // the KV budget caps an answer as the context does: a request without max_tokens gets what fits rather than a
    // refusal it could not act on, one asking for more is told the smaller of the two limits
    const fit = m.maxNewTokensWithinBudget(p.length);
    if (fit < 1)
      throw new HttpError(
        400,
        `${promptField}: ${p.length} tokens do not fit this server's KV budget; shorten it, or restart the server with a larger --kv-budget-mb`,
        promptField,
      );
    if (maxTokens != null && maxTokens > Math.min(room, fit)) {
      const why =
        room <= fit
          ? `the prompt (${p.length} tokens) plus ${maxTokens} new tokens exceed the ${m.contextLength}-token context; ask for at most ${room}`
          : `this server's KV budget holds at most ${fit} new tokens after a ${p.length}-token prompt, got ${maxTokens}; ask for at most ${fit}`;
      throw new HttpError(400, `${maxField}: ${why}, or leave ${maxField} out`, maxField);
    }
    return Math.min(maxTokens ?? room, limits.maxTokens, fit);
  });
  const config = toConfig(body, topLogprobs, maxTokens ?? undefined);
  const seed = body.seed ?? randomInt(2 ** 32);
  const stopTokenIds = [...new Set([...defaultStopTokenIds(m.tokenizer, m.eosTokenId, config), ...(config.ignoreEos ? [] : extraStops)])];
  return {
    prompts,
    config,
    maxNewTokens,
    seeds: prompts.map((_, i) => (prompts.length === 1 ? seed : promptSeed(seed, i))),
    stopTokenIds,
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
    tokensAsIds: body.return_tokens_as_token_ids ?? false,
    returnTokenIds: body.return_token_ids ?? false,
    logprobs,
  };
}

export function planCompletion(body: CompletionBody, m: ServeModel, limits: ServeLimits): PlannedRequest {
  const p = body.prompt;
  const list: (string | number[])[] =
    typeof p === 'string' ? [p] : typeof p[0] === 'number' ? [p as number[]] : (p as (string | number[])[]);
  const prompts = list.map((x) => (typeof x === 'string' ? m.tokenizer.encode(x) : [...x]));
  const logprobs = body.logprobs != null;
  return plan(body, prompts, body.logprobs ?? 0, logprobs, body.max_tokens, m, limits, [], { prompt: 'prompt', maxTokens: 'max_tokens' });
}

export function planChat(body: ChatBody, m: ServeModel, limits: ServeLimits): PlannedRequest {
  const messages: ChatMessage[] = body.messages.map((msg) => ({
    role: msg.role === 'developer' ? 'system' : msg.role,
    content: typeof msg.content === 'string' ? msg.content : msg.content.map((part) => part.text).join(''),
  }));
  const { chatTemplate, bosToken, eosToken } = m.tokenizer.config;
  const text = chatTemplate ? renderChatTemplate(chatTemplate, messages, { bosToken, eosToken }) : renderChatML(messages);
  const prompt = m.tokenizer.encode(text, { addSpecialTokens: false });
  const turnEnd = m.tokenizer.tokenToId(TURN_END);
  const logprobs = body.logprobs ?? false;
  // as OpenAI and vLLM: alternatives without the log-probs they go with are a mistake, not a no-op
  if (!logprobs && body.top_logprobs != null) throw new HttpError(400, 'top_logprobs: needs "logprobs": true', 'top_logprobs');
  const top = logprobs ? (body.top_logprobs ?? 0) : 0;
  return plan(
    body,
    [prompt],
    top,
    logprobs,
    body.max_completion_tokens ?? body.max_tokens,
    m,
    limits,
    turnEnd === undefined ? [] : [turnEnd],
    { prompt: 'messages', maxTokens: body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens' },
  );
}
