// Reply bodies and stream chunks in the OpenAI wire format, from the engine's answers: completions use the
// legacy log-prob shape ({tokens, token_logprobs, top_logprobs, text_offset}), chat the `content` list shape.
// Log-probs are the raw policy's (see sampler.ts), like vLLM's default `raw_logprobs`. Tokens are printed as
// their decoded text, or as "token_id:N" when asked (vLLM's return_tokens_as_token_ids); `token_ids` lists
// the generated ids when asked (vLLM's return_token_ids). Choice index = prompt index * n + sample index.
import { codePoints } from '@lwz/core';
import type { Tokenizer } from '@lwz/tokenizer';
import type { Answer } from '../answer';
import type { PlannedRequest } from './openai-requests';

export interface ReplyContext {
  id: string;
  created: number;
  model: string;
  tokenizer: Tokenizer;
  plan: PlannedRequest;
}

type Json = Record<string, unknown>;

export function choiceIndex(a: Answer, promptIndex: number, n: number): number {
  return promptIndex * n + a.sampleIndex;
}

function tokenText(ctx: ReplyContext, id: number): string {
  return ctx.plan.tokensAsIds ? `token_id:${id}` : ctx.tokenizer.decode([id]);
}

/**
 * Completions' `text_offset`, as vLLM means it: where each token's text begins in the choice's text, counted in
 * characters (code points, as Python's len counts them) from the text's start, continuing across a stream's chunks.
 * Taken from the characters the tokens before it decode to (Answer.textOffsets), never by adding up the printed
 * tokens, whose lengths are not the text's: a piece of a multi-byte character prints as a whole U+FFFD, "token_id:N"
 * is no text, a skipped special token or text cut at a stop string is not in it. `known`: the characters of the text
 * that are final (a stream's sent so far); an offset past the text's end (cut at a stop string) is its end.
 */
const clampedOffsets = (a: Answer, from: number, to: number, known: number): number[] =>
  a.textOffsets.slice(from, to).map((at) => Math.min(at, known));

/**
 * How many tokens from `from` on have a text_offset that is already final when `known` characters of the text are
 * (sent): those whose text begins within them. Once the answer is finished, every token.
 */
export function settledTokens(a: Answer, from: number, known: number): number {
  let to = from;
  while (to < a.tokenIds.length && (a.finish || a.textOffsets[to] <= known)) to++;
  return to;
}

/** Legacy completions log-probs of tokens [from, to) of an answer, `known` characters of whose text are final. */
export function completionLogprobs(ctx: ReplyContext, a: Answer, from: number, to: number, known: number): Json | null {
  if (!ctx.plan.logprobs) return null;
  const tokens = a.tokenIds.slice(from, to).map((id) => tokenText(ctx, id));
  const withTop = ctx.plan.config.topLogprobs > 0;
  return {
    tokens,
    token_logprobs: a.logprobs.slice(from, to),
    top_logprobs: withTop
      ? a.top.slice(from, to).map((alts) => Object.fromEntries(alts.map((t) => [tokenText(ctx, t.id), t.logprob])))
      : null,
    text_offset: clampedOffsets(a, from, to, known),
  };
}

/** Chat log-probs ({content: [...]}) of tokens [from, to) of an answer. */
export function chatLogprobs(ctx: ReplyContext, a: Answer, from: number, to: number): Json | null {
  if (!ctx.plan.logprobs) return null;
  const entry = (id: number, logprob: number): Json => {
    // the token's own bytes (a piece of a multi-byte character is its byte, not U+FFFD's), as OpenAI's `bytes` is meant
    // to be joined with its neighbours' into the text
    return { token: tokenText(ctx, id), logprob, bytes: Array.from(ctx.tokenizer.idBytes(id)) };
  };
  const content = a.tokenIds.slice(from, to).map((id, k) => ({
    ...entry(id, a.logprobs[from + k]),
    top_logprobs: (a.top[from + k] ?? []).map((t) => entry(t.id, t.logprob)),
  }));
  return { content };
}

function finishFields(a: Answer): Json {
  return { finish_reason: a.finish?.reason ?? null, stop_reason: a.finish?.stop ?? null };
}

export function usage(plan: PlannedRequest, groups: Answer[][]): Json {
  const prompt = plan.prompts.reduce((s, p) => s + p.length, 0);
  const completion = groups.flat().reduce((s, a) => s + a.tokenIds.length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function completionReply(ctx: ReplyContext, groups: Answer[][]): Json {
  const n = ctx.plan.config.n;
  const choices = groups.flatMap((g, p) =>
    g.map((a) => ({
      index: choiceIndex(a, p, n),
      text: a.text,
      logprobs: completionLogprobs(ctx, a, 0, a.tokenIds.length, codePoints(a.text)),
      ...finishFields(a),
      ...(ctx.plan.returnTokenIds ? { token_ids: a.tokenIds, prompt_token_ids: ctx.plan.prompts[p] } : {}),
    })),
  );
  return { id: ctx.id, object: 'text_completion', created: ctx.created, model: ctx.model, choices, usage: usage(ctx.plan, groups) };
}

export function chatReply(ctx: ReplyContext, groups: Answer[][]): Json {
  const choices = groups[0].map((a) => ({
    index: a.sampleIndex,
    message: { role: 'assistant', content: a.text },
    logprobs: chatLogprobs(ctx, a, 0, a.tokenIds.length),
    ...finishFields(a),
    ...(ctx.plan.returnTokenIds ? { token_ids: a.tokenIds } : {}),
  }));
  return { id: ctx.id, object: 'chat.completion', created: ctx.created, model: ctx.model, choices, usage: usage(ctx.plan, groups) };
}

/** One stream chunk: `choice` is the per-choice part (text or delta, logprobs, finish). */
export function chunk(ctx: ReplyContext, chat: boolean, choice: Json): Json {
  return {
    id: ctx.id,
    object: chat ? 'chat.completion.chunk' : 'text_completion',
    created: ctx.created,
    model: ctx.model,
    choices: [choice],
  };
}

export function finishPart(a: Answer): Json {
  return finishFields(a);
}
